ALTER TABLE `logged_models` ADD `created_by_token` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `created_by_token` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `token_id` text;