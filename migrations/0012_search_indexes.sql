DROP INDEX `model_version_tags_kv_idx`;--> statement-breakpoint
CREATE INDEX `model_version_tags_kv_version_idx` ON `model_version_tags` (`key`,`value`,`model_id`,`version`);--> statement-breakpoint
CREATE INDEX `model_versions_created_idx` ON `model_versions` (`creation_time`);--> statement-breakpoint
CREATE INDEX `model_versions_model_updated_idx` ON `model_versions` (`model_id`,`last_updated_time`,`version`);--> statement-breakpoint
CREATE INDEX `model_versions_model_created_idx` ON `model_versions` (`model_id`,`creation_time`,`version`);--> statement-breakpoint
CREATE INDEX `model_versions_model_stage_idx` ON `model_versions` (`model_id`,`current_stage`,`status`,`version`);--> statement-breakpoint
CREATE INDEX `registered_models_created_idx` ON `registered_models` (`creation_time`);--> statement-breakpoint
CREATE INDEX `registered_models_last_updated_idx` ON `registered_models` (`last_updated_time`);