CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`secret_hash` text NOT NULL,
	`scope` text NOT NULL,
	`models` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_secret_hash_uq` ON `api_tokens` (`secret_hash`);--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`timestamp` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`model_name` text,
	`version` text,
	`status` integer NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_events_model_idx` ON `audit_events` (`model_name`,`timestamp`);--> statement-breakpoint
CREATE INDEX `audit_events_actor_idx` ON `audit_events` (`actor`,`timestamp`);--> statement-breakpoint
CREATE INDEX `audit_events_time_idx` ON `audit_events` (`timestamp`);