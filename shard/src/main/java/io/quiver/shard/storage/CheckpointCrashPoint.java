package io.quiver.shard.storage;

/**
 * Test hook called by {@link CheckpointStore} as a checkpoint passes each named step, so a test can stop it
 * there and run {@link Recovery} on the directory exactly as a crash would leave it. To simulate a crash,
 * throw an {@link Error}: the store's best-effort cleanup reacts to IOException and RuntimeException only,
 * so an Error leaves every file as it is. Production uses {@link #NONE}. Implementations must be thread-safe
 * if checkpoints run concurrently.
 */
@FunctionalInterface
public interface CheckpointCrashPoint {

    CheckpointCrashPoint NONE = step -> { };

    /** The steps, in the order one checkpoint-publish-retire cycle reaches them. */
    enum Step {
        /** {@code <name>.ckpt.tmp} written and forced; not renamed. */
        CHECKPOINT_TEMP_WRITTEN,
        /** Renamed to {@code <name>.ckpt}; the directory not yet forced. */
        CHECKPOINT_RENAMED,
        /** Directory forced: the checkpoint file is durable but the manifest does not name it yet. */
        CHECKPOINT_DURABLE,
        /** {@code MANIFEST.tmp} written and forced; not renamed. */
        MANIFEST_TEMP_WRITTEN,
        /** Manifest renamed and its directory forced; nothing retired yet. */
        MANIFEST_DURABLE,
        /** Retirement planned; no WAL segment deleted yet. */
        BEFORE_SEGMENT_DELETE,
        /** WAL segments deleted; superseded checkpoint files not yet. */
        SEGMENTS_DELETED
    }

    void reached(Step step);
}
