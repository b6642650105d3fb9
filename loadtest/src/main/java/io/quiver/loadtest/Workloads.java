package io.quiver.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The request builders the scenarios share. Point {@code i} of the dataset always has id {@code i}, so
 * re-ingesting is an idempotent overwrite and the ground truth stays valid; scenarios that need fresh
 * ids (read-only toggle, chaos) use an id range above {@code idBase}.
 *
 * <p>Stateless; the returned workloads are thread-safe.
 */
public final class Workloads {

  public static final String UPSERT = "upsert";
  public static final String SEARCH = "search";
  public static final String SEARCH_BATCH = "search_batch";
  public static final String GET = "get";

  private Workloads() {}

  /** Request {@code seq} upserts points {@code [seq*batch, seq*batch+batch)} modulo the dataset size. */
  public static LoadDriver.Workload ingest(Transport t, String collection, Dataset d, int batch) {
    return seq -> {
      List<Transport.Point> points = new ArrayList<>(batch);
      long first = seq * batch;
      int n = d.size();
      for (int j = 0; j < batch; j++) {
        int i = (int) ((first + j) % n);
        points.add(point(d, i, i));
      }
      return new LoadDriver.Request(UPSERT, t.upsert(collection, points));
    };
  }

  /** Request {@code seq} upserts {@code batch} points with the fresh ids {@code idBase + seq*batch + j}. */
  public static LoadDriver.Workload freshWrites(Transport t, String collection, Dataset d, int batch, long idBase,
      WriteListener listener) {
    return seq -> {
      List<Transport.Point> points = new ArrayList<>(batch);
      long[] ids = new long[batch];
      for (int j = 0; j < batch; j++) {
        long offset = seq * batch + j;
        ids[j] = idBase + offset;
        points.add(point(d, (int) (offset % d.size()), ids[j]));
      }
      long sentAt = listener.now();
      return new LoadDriver.Request(UPSERT, t.upsert(collection, points)
          .onSuccess(r -> listener.onReply(ids, r, sentAt)));
    };
  }

  /** Sees every write's outcome: which ids, the reply and when the request was sent. */
  public interface WriteListener {
    long now();

    void onReply(long[] ids, Reply reply, long sentNanos);
  }

  /**
   * Request {@code seq} searches query {@code seq mod queries}; with {@code batchQueries > 0} it sends
   * that many consecutive queries to the batch endpoint. {@code truth} may be null (no recall).
   */
  public static LoadDriver.Workload search(Transport t, String collection, Dataset d, Transport.SearchOptions options,
      int batchQueries, GroundTruth truth) {
    int nq = truth != null ? Math.min(truth.queries(), d.queries().length) : d.queries().length;
    if (nq == 0) {
      throw new IllegalArgumentException("the dataset has no query vectors");
    }
    if (batchQueries <= 0) {
      return seq -> {
        int q = (int) (seq % nq);
        return new LoadDriver.Request(SEARCH, t.search(collection, d.queries()[q], options),
            truth == null ? null : r -> truth.recall(q, hitIds(r.body())));
      };
    }
    return seq -> {
      List<float[]> queries = new ArrayList<>(batchQueries);
      int firstQuery = (int) ((seq * batchQueries) % nq);
      for (int j = 0; j < batchQueries; j++) {
        queries.add(d.queries()[(firstQuery + j) % nq]);
      }
      return new LoadDriver.Request(SEARCH_BATCH, t.searchBatch(collection, queries, options),
          truth == null ? null : r -> batchRecall(truth, firstQuery, nq, batchQueries, r.body()));
    };
  }

  /** Mixes two workloads: request {@code seq} is a write with probability {@code writeRatio}, seeded. */
  public static LoadDriver.Workload mix(LoadDriver.Workload writes, LoadDriver.Workload reads, double writeRatio,
      long seed) {
    if (writeRatio < 0 || writeRatio > 1) {
      throw new IllegalArgumentException("--write-ratio must be within [0, 1], got " + writeRatio);
    }
    return seq -> unitInterval(seed, seq) < writeRatio ? writes.issue(seq) : reads.issue(seq);
  }

  static Transport.Point point(Dataset d, int index, long id) {
    return new Transport.Point(id, d.base()[index], new JsonObject().put("label", d.labels()[index]));
  }

  /** The ids of a top-k answer ({@code {"hits":[{"id",...}]}}), best first. */
  static long[] hitIds(JsonObject body) {
    JsonArray hits = body == null ? null : body.getJsonArray("hits");
    if (hits == null) {
      return new long[0];
    }
    long[] ids = new long[hits.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = hits.getJsonObject(i).getLong("id");
    }
    return ids;
  }

  private static double batchRecall(GroundTruth truth, int firstQuery, int nq, int sent, JsonObject body) {
    JsonArray results = body == null ? null : body.getJsonArray("results");
    if (results == null || results.isEmpty()) {
      return 0.0;
    }
    double sum = 0;
    for (int j = 0; j < Math.min(sent, results.size()); j++) {
      sum += truth.recall((firstQuery + j) % nq, hitIds(results.getJsonObject(j)));
    }
    return sum / sent; // a missing result counts as recall 0
  }

  // SplitMix64 of (seed, seq) mapped to [0, 1): deterministic, independent of thread timing.
  static double unitInterval(long seed, long seq) {
    long z = seed + (seq + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }
}
