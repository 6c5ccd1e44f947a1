CREATE TABLE IF NOT EXISTS `__EFMigrationsHistory` (
    `MigrationId` varchar(150) CHARACTER SET utf8mb4 NOT NULL,
    `ProductVersion` varchar(32) CHARACTER SET utf8mb4 NOT NULL,
    CONSTRAINT `PK___EFMigrationsHistory` PRIMARY KEY (`MigrationId`)
) CHARACTER SET=utf8mb4;

START TRANSACTION;
DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE TABLE `rooms` (
        `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `created_at` datetime(6) NOT NULL,
        CONSTRAINT `PK_rooms` PRIMARY KEY (`room_id`)
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE TABLE `devices` (
        `device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `identity` varchar(64) CHARACTER SET utf8mb4 NOT NULL,
        `last_connected_at` datetime(6) NOT NULL,
        `last_room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
        CONSTRAINT `PK_devices` PRIMARY KEY (`device_id`),
        CONSTRAINT `FK_devices_rooms_last_room_id` FOREIGN KEY (`last_room_id`) REFERENCES `rooms` (`room_id`) ON DELETE RESTRICT
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE TABLE `connections` (
        `id` bigint NOT NULL AUTO_INCREMENT,
        `device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `client_ip` varchar(45) CHARACTER SET utf8mb4 NOT NULL,
        `connected_at` datetime(6) NOT NULL,
        `disconnected_at` datetime(6) NULL,
        CONSTRAINT `PK_connections` PRIMARY KEY (`id`),
        CONSTRAINT `FK_connections_devices_device_id` FOREIGN KEY (`device_id`) REFERENCES `devices` (`device_id`) ON DELETE RESTRICT,
        CONSTRAINT `FK_connections_rooms_room_id` FOREIGN KEY (`room_id`) REFERENCES `rooms` (`room_id`) ON DELETE RESTRICT
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE TABLE `messages` (
        `id` bigint NOT NULL AUTO_INCREMENT,
        `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `from_device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `to_device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        `message_type` enum('broadcast','direct') CHARACTER SET utf8mb4 NOT NULL,
        `message_content` text CHARACTER SET utf8mb4 NOT NULL,
        `sent_at` datetime(6) NOT NULL,
        CONSTRAINT `PK_messages` PRIMARY KEY (`id`),
        CONSTRAINT `FK_messages_devices_from_device_id` FOREIGN KEY (`from_device_id`) REFERENCES `devices` (`device_id`) ON DELETE RESTRICT,
        CONSTRAINT `FK_messages_rooms_room_id` FOREIGN KEY (`room_id`) REFERENCES `rooms` (`room_id`) ON DELETE RESTRICT
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE TABLE `room_queries` (
        `id` bigint NOT NULL AUTO_INCREMENT,
        `device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `queried_at` datetime(6) NOT NULL,
        CONSTRAINT `PK_room_queries` PRIMARY KEY (`id`),
        CONSTRAINT `FK_room_queries_devices_device_id` FOREIGN KEY (`device_id`) REFERENCES `devices` (`device_id`) ON DELETE RESTRICT,
        CONSTRAINT `FK_room_queries_rooms_room_id` FOREIGN KEY (`room_id`) REFERENCES `rooms` (`room_id`) ON DELETE RESTRICT
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_connections_device_id` ON `connections` (`device_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `ix_connections_disconnected_at` ON `connections` (`disconnected_at`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_connections_room_id` ON `connections` (`room_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_devices_last_room_id` ON `devices` (`last_room_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_messages_from_device_id` ON `messages` (`from_device_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `ix_messages_message_type` ON `messages` (`message_type`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `ix_messages_room_id_id` ON `messages` (`room_id`, `id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `ix_messages_sent_at_room_id` ON `messages` (`sent_at`, `room_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_room_queries_device_id` ON `room_queries` (`device_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    CREATE INDEX `IX_room_queries_room_id` ON `room_queries` (`room_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261125194022_InitialSchema') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261125194022_InitialSchema', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    ALTER TABLE `connections` ADD `node_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    CREATE TABLE `message_sequence` (
        `name` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `last_id` bigint NOT NULL,
        CONSTRAINT `PK_message_sequence` PRIMARY KEY (`name`)
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    CREATE TABLE `nodes` (
        `node_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `incarnation` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `started_at` datetime(6) NOT NULL,
        `last_seen_at` datetime(6) NOT NULL,
        CONSTRAINT `PK_nodes` PRIMARY KEY (`node_id`)
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    INSERT INTO message_sequence (name, last_id) SELECT 'messages', COALESCE(MAX(id), 0) FROM messages;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    CREATE INDEX `ix_connections_node_id_disconnected_at` ON `connections` (`node_id`, `disconnected_at`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126101412_ClusterNodes') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261126101412_ClusterNodes', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126103518_ClientMessageIds') THEN

    CREATE TABLE `client_message_ids` (
        `device_id` varchar(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        `client_message_id` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        `message_id` bigint NOT NULL,
        `recipients` int NOT NULL,
        `sent_at` datetime(6) NOT NULL,
        CONSTRAINT `PK_client_message_ids` PRIMARY KEY (`device_id`, `client_message_id`),
        CONSTRAINT `FK_client_message_ids_messages_message_id` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE CASCADE
    ) CHARACTER SET=utf8mb4;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126103518_ClientMessageIds') THEN

    CREATE INDEX `IX_client_message_ids_message_id` ON `client_message_ids` (`message_id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126103518_ClientMessageIds') THEN

    CREATE INDEX `ix_client_message_ids_sent_at` ON `client_message_ids` (`sent_at`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261126103518_ClientMessageIds') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261126103518_ClientMessageIds', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130115214_NodeLeasesAndRetention') THEN

    ALTER TABLE `nodes` ADD `cluster` varchar(106) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130115214_NodeLeasesAndRetention') THEN

    ALTER TABLE `nodes` ADD `lease_ms` int NOT NULL DEFAULT 0;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130115214_NodeLeasesAndRetention') THEN

    CREATE INDEX `ix_room_queries_queried_at` ON `room_queries` (`queried_at`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130115214_NodeLeasesAndRetention') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261130115214_NodeLeasesAndRetention', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130120604_ExactClientMessageIds') THEN

    ALTER TABLE `client_message_ids` MODIFY COLUMN `client_message_id` varbinary(256) NOT NULL;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130120604_ExactClientMessageIds') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261130120604_ExactClientMessageIds', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130122635_VisibleHistoryIndexes') THEN

    CREATE INDEX `ix_messages_from_device_id_room_id_id` ON `messages` (`from_device_id`, `room_id`, `id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130122635_VisibleHistoryIndexes') THEN

    CREATE INDEX `ix_messages_room_id_to_device_id_id` ON `messages` (`room_id`, `to_device_id`, `id`);

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130122635_VisibleHistoryIndexes') THEN

    ALTER TABLE `messages` DROP INDEX `IX_messages_from_device_id`;

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

DROP PROCEDURE IF EXISTS MigrationsScript;
DELIMITER //
CREATE PROCEDURE MigrationsScript()
BEGIN
    IF NOT EXISTS(SELECT 1 FROM `__EFMigrationsHistory` WHERE `MigrationId` = '20261130122635_VisibleHistoryIndexes') THEN

    INSERT INTO `__EFMigrationsHistory` (`MigrationId`, `ProductVersion`)
    VALUES ('20261130122635_VisibleHistoryIndexes', '9.0.23');

    END IF;
END //
DELIMITER ;
CALL MigrationsScript();
DROP PROCEDURE MigrationsScript;

COMMIT;

