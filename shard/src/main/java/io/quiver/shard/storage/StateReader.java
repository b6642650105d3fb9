package io.quiver.shard.storage;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Reads one partition's state back from a checkpoint whose CRC has already been verified. The stream ends
 * (EOF) where the state the {@link StateWriter} wrote ends.
 */
@FunctionalInterface
public interface StateReader {

    void readFrom(DataInputStream in) throws IOException;
}
