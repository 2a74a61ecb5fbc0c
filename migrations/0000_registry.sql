CREATE TABLE `model_version_tags` (
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `version`, `key`),
	FOREIGN KEY (`model_id`,`version`) REFERENCES `model_versions`(`model_id`,`version`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `model_version_tags_kv_idx` ON `model_version_tags` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `model_versions` (
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`user_id` text,
	`source` text NOT NULL,
	`run_id` text,
	`run_link` text DEFAULT '' NOT NULL,
	`logged_model_id` text,
	`status` text NOT NULL,
	`status_message` text,
	`current_stage` text DEFAULT 'None' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_updated_time` integer NOT NULL,
	`storage_location` text,
	PRIMARY KEY(`model_id`, `version`),
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `model_versions_one_production_uq` ON `model_versions` (`model_id`) WHERE current_stage = 'Production';--> statement-breakpoint
CREATE INDEX `model_versions_run_id_idx` ON `model_versions` (`run_id`);--> statement-breakpoint
CREATE INDEX `model_versions_last_updated_idx` ON `model_versions` (`last_updated_time`);--> statement-breakpoint
CREATE INDEX `model_versions_version_idx` ON `model_versions` (`version`);--> statement-breakpoint
CREATE INDEX `model_versions_source_idx` ON `model_versions` (`source`);--> statement-breakpoint
CREATE TABLE `registered_model_aliases` (
	`model_id` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`model_id`, `alias`),
	FOREIGN KEY (`model_id`,`version`) REFERENCES `model_versions`(`model_id`,`version`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registered_model_tags` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `registered_model_tags_kv_idx` ON `registered_model_tags` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `registered_models` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`user_id` text,
	`creation_time` integer NOT NULL,
	`last_updated_time` integer NOT NULL,
	`next_version` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registered_models_name_uq` ON `registered_models` (`name`);--> statement-breakpoint
CREATE TABLE `stage_transitions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`from_stage` text NOT NULL,
	`to_stage` text NOT NULL,
	`actor` text NOT NULL,
	`comment` text,
	`timestamp` integer NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `stage_transitions_model_idx` ON `stage_transitions` (`model_id`,`version`,`id`);