CREATE TABLE `experiment_tags` (
	`experiment_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`experiment_id`, `key`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `experiments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`artifact_location` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_update_time` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_name_uq` ON `experiments` (`name`);--> statement-breakpoint
CREATE INDEX `experiments_creation_time_idx` ON `experiments` (`creation_time`);--> statement-breakpoint
CREATE TABLE `logged_model_metrics` (
	`id` integer PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`run_id` text NOT NULL,
	`key` text NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	`timestamp` integer NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	`dataset_name` text,
	`dataset_digest` text,
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `logged_model_metrics_point_uq` ON `logged_model_metrics` (`model_id`,`key`,`timestamp`,`step`,`run_id`);--> statement-breakpoint
CREATE INDEX `logged_model_metrics_key_idx` ON `logged_model_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `logged_model_params` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_model_tags` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_models` (
	`model_id` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`model_type` text DEFAULT '' NOT NULL,
	`source_run_id` text,
	`status` text NOT NULL,
	`status_message` text,
	`artifact_uri` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_updated_time` integer NOT NULL,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `logged_models_experiment_idx` ON `logged_models` (`experiment_id`,`creation_time`);--> statement-breakpoint
CREATE INDEX `logged_models_source_run_idx` ON `logged_models` (`source_run_id`);--> statement-breakpoint
CREATE TABLE `run_dataset_inputs` (
	`id` integer PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`name` text NOT NULL,
	`digest` text NOT NULL,
	`source_type` text NOT NULL,
	`source` text NOT NULL,
	`schema` text,
	`profile` text,
	`tags` text DEFAULT '[]' NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `run_dataset_inputs_uq` ON `run_dataset_inputs` (`run_id`,`name`,`digest`);--> statement-breakpoint
CREATE TABLE `run_latest_metrics` (
	`run_id` text NOT NULL,
	`key` text NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	`timestamp` integer NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_id`, `key`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `run_latest_metrics_key_value_idx` ON `run_latest_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `run_metrics` (
	`id` integer PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`key` text NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	`timestamp` integer NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	`model_id` text,
	`dataset_name` text,
	`dataset_digest` text,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `run_metrics_point_uq` ON `run_metrics` (`run_id`,`key`,`timestamp`,`step`,`value`,`is_nan`);--> statement-breakpoint
CREATE INDEX `run_metrics_history_idx` ON `run_metrics` (`run_id`,`key`,`timestamp`,`step`);--> statement-breakpoint
CREATE TABLE `run_model_links` (
	`run_id` text NOT NULL,
	`model_id` text NOT NULL,
	`direction` text NOT NULL,
	`step` integer,
	PRIMARY KEY(`run_id`, `direction`, `model_id`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `run_model_links_model_idx` ON `run_model_links` (`model_id`);--> statement-breakpoint
CREATE TABLE `run_params` (
	`run_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_id`, `key`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `run_tags` (
	`run_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_id`, `key`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`user_id` text,
	`status` text NOT NULL,
	`start_time` integer,
	`end_time` integer,
	`artifact_uri` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`deleted_time` integer,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_experiment_start_idx` ON `runs` (`experiment_id`,`start_time`);--> statement-breakpoint
-- MLflow clients expect the Default experiment "0" to exist from the start (MLflow's SQL store
-- creates it the same way, with an explicit id on the autoincrement key).
INSERT INTO `experiments` (`id`, `name`, `artifact_location`, `lifecycle_stage`, `creation_time`, `last_update_time`)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
