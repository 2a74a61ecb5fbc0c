CREATE TABLE `artifact_objects` (
	`path` text PRIMARY KEY NOT NULL,
	`blob_key` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`uploaded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `artifact_uploads` (
	`upload_id` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`blob_key` text NOT NULL,
	`r2_upload_id` text NOT NULL,
	`num_parts` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `model_version_files` (
	`model_id` text NOT NULL,
	`version` integer NOT NULL,
	`path` text NOT NULL,
	`artifact_path` text NOT NULL,
	`blob_key` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	PRIMARY KEY(`model_id`, `version`, `path`)
);
--> statement-breakpoint
CREATE INDEX `model_version_files_artifact_idx` ON `model_version_files` (`artifact_path`);