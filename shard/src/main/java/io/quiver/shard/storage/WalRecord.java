package io.quiver.shard.storage;

import java.nio.ByteBuffer;

/**
 * A record read back from the WAL. During replay the body is a read-only view into the reader's buffer
 * that is valid only until the handler returns: copy it if you keep it. Immutable apart from that view.
 */
public record WalRecord(byte type, long sequence, long collectionUid, int partition, ByteBuffer body) {

    public PartitionKey partitionKey() {
        return new PartitionKey(collectionUid, partition);
    }
}
