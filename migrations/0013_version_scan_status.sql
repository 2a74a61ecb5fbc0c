CREATE TABLE `scan_overrides` (
	`id` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`actor` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `scan_overrides_version_idx` ON `scan_overrides` (`model_id`,`version`,`created_at`);--> statement-breakpoint
CREATE TABLE `version_scans` (
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`scanner` text NOT NULL,
	`status` text NOT NULL,
	`finding` text,
	`scanned_at` integer NOT NULL,
	PRIMARY KEY(`model_id`, `version`)
);
