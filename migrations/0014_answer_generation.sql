CREATE TABLE `answer_generation` (
	`id` integer PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
-- Search answers are held per isolate while this row's n has not moved (src/http/answer-memory.ts).
INSERT INTO `answer_generation` (`id`, `n`) VALUES (1, 0);--> statement-breakpoint
CREATE TRIGGER `registered_models_insert_moves_answers` AFTER INSERT ON `registered_models` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_models_update_moves_answers` AFTER UPDATE ON `registered_models` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_models_delete_moves_answers` AFTER DELETE ON `registered_models` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_tags_insert_moves_answers` AFTER INSERT ON `registered_model_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_tags_update_moves_answers` AFTER UPDATE ON `registered_model_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_tags_delete_moves_answers` AFTER DELETE ON `registered_model_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_aliases_insert_moves_answers` AFTER INSERT ON `registered_model_aliases` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_aliases_update_moves_answers` AFTER UPDATE ON `registered_model_aliases` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `registered_model_aliases_delete_moves_answers` AFTER DELETE ON `registered_model_aliases` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_versions_insert_moves_answers` AFTER INSERT ON `model_versions` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_versions_update_moves_answers` AFTER UPDATE ON `model_versions` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_versions_delete_moves_answers` AFTER DELETE ON `model_versions` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_version_tags_insert_moves_answers` AFTER INSERT ON `model_version_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_version_tags_update_moves_answers` AFTER UPDATE ON `model_version_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `model_version_tags_delete_moves_answers` AFTER DELETE ON `model_version_tags` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `version_scans_insert_moves_answers` AFTER INSERT ON `version_scans` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `version_scans_update_moves_answers` AFTER UPDATE ON `version_scans` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;--> statement-breakpoint
CREATE TRIGGER `version_scans_delete_moves_answers` AFTER DELETE ON `version_scans` BEGIN UPDATE `answer_generation` SET `n` = `n` + 1 WHERE `id` = 1; END;
