package io.quiver.shard.storage;

/**
 * One partition of one collection, as the storage layer sees it: the collection's uid and the partition
 * number. Immutable and thread-safe.
 */
public record PartitionKey(long collectionUid, int partition) implements Comparable<PartitionKey> {

    public PartitionKey {
        if (partition < 0) {
            throw new IllegalArgumentException("partition must not be negative: " + partition);
        }
    }

    @Override
    public int compareTo(PartitionKey o) {
        int c = Long.compareUnsigned(collectionUid, o.collectionUid);
        return c != 0 ? c : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return Long.toUnsignedString(collectionUid) + "/" + partition;
    }
}
