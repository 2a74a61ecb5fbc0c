CREATE TABLE `file_scans` (
	`sha256` text PRIMARY KEY NOT NULL,
	`scanner` text NOT NULL,
	`verdict` text NOT NULL,
	`format` text NOT NULL,
	`imports` text DEFAULT '[]' NOT NULL,
	`calls` text DEFAULT '[]' NOT NULL,
	`reasons` text DEFAULT '[]' NOT NULL,
	`bytes` integer NOT NULL,
	`scanned_at` integer NOT NULL
);
