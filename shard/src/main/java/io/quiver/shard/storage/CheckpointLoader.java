package io.quiver.shard.storage;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Receives each published checkpoint during recovery, after its CRC was verified, on the recovering thread.
 * The stream ends where the partition state ends.
 */
@FunctionalInterface
public interface CheckpointLoader {

    void load(PartitionKey partition, long coveredSequence, DataInputStream state) throws IOException;
}
