package io.quiver.loadtest;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The operations of the Quiver public API that the bench scenarios drive, over REST ({@link RestTransport})
 * or the public gRPC API ({@link GrpcTransport}).
 *
 * <p>Implementations must be thread-safe and non-blocking. Returned futures never fail: every outcome,
 * including transport errors, is a {@link Reply}, so the load driver can count it.
 */
public interface Transport extends AutoCloseable {

  /** A point to upsert; {@code payload} may be null. */
  record Point(long id, float[] values, JsonObject payload) {}

  /** Options shared by single and batch searches. {@code filter} is raw JSON or null. */
  /** {@code targetRecall} null: not sent (the server's default). */
  record SearchOptions(int limit, String metric, String mode, String filter, Float targetRecall) {
    public SearchOptions(int limit, String metric, String mode, String filter) {
      this(limit, metric, mode, filter, null);
    }
  }

  /** {@code metric}, {@code partitions} null: not sent (the server's default). */
  Future<Reply> createCollection(String name, int dimension, String metric, Integer partitions);

  Future<Reply> deleteCollection(String name);

  Future<Reply> upsert(String collection, List<Point> points);

  Future<Reply> getPoint(String collection, long id);

  Future<Reply> search(String collection, float[] query, SearchOptions options);

  Future<Reply> searchBatch(String collection, List<float[]> queries, SearchOptions options);

  Future<Reply> setReadOnly(boolean enabled, String reason);

  Future<Reply> ready();

  @Override
  void close();
}
