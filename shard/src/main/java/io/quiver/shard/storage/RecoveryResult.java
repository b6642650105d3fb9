package io.quiver.shard.storage;

import java.time.Duration;

/**
 * What {@link Recovery#run} did. {@code lastSequence} is where the WAL continues (the next append gets
 * {@code lastSequence + 1}). Immutable.
 */
public record RecoveryResult(
        long lastSequence,
        int temporaryFilesDeleted,
        int unpublishedCheckpointsDeleted,
        int checkpointsLoaded,
        long recordsReplayed,
        long recordsSkipped,
        long tornBytesDropped,
        Duration duration) {
}
