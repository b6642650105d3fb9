package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.file.Path;

/** A data directory opened and recovered the way a shard does it, into a {@link PartitionModel}. */
final class RecoveredStorage implements AutoCloseable {

    final StorageFiles files;
    final WriteAheadLog wal;
    final CheckpointStore checkpoints;
    final PartitionModel model = new PartitionModel();
    final RecoveryResult result;

    private RecoveredStorage(Path dataDirectory, WalOptions options, CheckpointCrashPoint crash) throws IOException {
        files = new StorageFiles(dataDirectory);
        files.createDirectories();
        checkpoints = CheckpointStore.open(files, crash);
        wal = WriteAheadLog.open(files, options);
        try {
            result = new Recovery(files, wal, checkpoints).run(model::load, model::apply);
        } catch (IOException | RuntimeException | Error e) {
            wal.close();
            throw e;
        }
    }

    static RecoveredStorage recover(Path dataDirectory) throws IOException {
        return new RecoveredStorage(dataDirectory, new WalOptions(), CheckpointCrashPoint.NONE);
    }

    static RecoveredStorage recover(Path dataDirectory, WalOptions options) throws IOException {
        return new RecoveredStorage(dataDirectory, options, CheckpointCrashPoint.NONE);
    }

    static RecoveredStorage recover(Path dataDirectory, WalOptions options, CheckpointCrashPoint crash)
            throws IOException {
        return new RecoveredStorage(dataDirectory, options, crash);
    }

    @Override
    public void close() throws IOException {
        wal.close();
    }
}
