CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`model_name` text NOT NULL,
	`sequence` integer NOT NULL,
	`type` text NOT NULL,
	`version` integer,
	`from_value` text,
	`to_value` text,
	`actor` text,
	`timestamp` integer NOT NULL,
	`data` text DEFAULT '{}' NOT NULL,
	`sent_at` integer,
	`fanned_out_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_model_sequence_uq` ON `events` (`model_id`,`sequence`);--> statement-breakpoint
CREATE INDEX `events_pending_idx` ON `events` (`model_id`,`sequence`) WHERE fanned_out_at IS NULL;--> statement-breakpoint
CREATE INDEX `events_timestamp_idx` ON `events` (`timestamp`);