package io.quiver.shard.storage;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Reads one partition's state back from a checkpoint whose CRC has already been verified. The stream ends
 * (EOF) where the state the {@link StateWriter} wrote ends. Called on the reading thread; the stream is
 * only valid during the call.
 */
@FunctionalInterface
public interface StateReader {

    void readFrom(DataInputStream in) throws IOException;
}
