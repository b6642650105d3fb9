package io.quiver.shard.storage;

import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Streams one partition's state into a checkpoint. The stream is buffered and checksummed by the store;
 * closing it is allowed and harmless. Called on the checkpointing thread.
 */
@FunctionalInterface
public interface StateWriter {

    void writeTo(DataOutputStream out) throws IOException;
}
