package io.quiver.shard.storage;

import java.io.IOException;

/** Receives WAL records in sequence order during replay, on the replaying thread. */
@FunctionalInterface
public interface RecordHandler {

    void handle(WalRecord record) throws IOException;
}
