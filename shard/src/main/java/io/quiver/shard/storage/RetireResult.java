package io.quiver.shard.storage;

/**
 * What {@link CheckpointStore#retireObsolete} did: the sequence up to which WAL segments were allowed to go
 * (0 = none could), how many segments and how many superseded checkpoint files it deleted. Immutable.
 */
public record RetireResult(long walSafeSequence, int segmentsDeleted, int checkpointFilesDeleted) {
}
