package io.quiver.loadtest;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Exact top-k neighbours by brute force, computed locally in parallel, and recall@k against them.
 * Ties are broken by the smaller id, as the gateway's merge does.
 *
 * <p>Immutable after {@link #compute}; thread-safe.
 */
public final class GroundTruth {

  private final long[][] ids;
  private final int k;

  private GroundTruth(long[][] ids, int k) {
    this.ids = ids;
    this.k = k;
  }

  public int k() {
    return k;
  }

  /** The exact top-k ids of query {@code q}, best first. */
  public long[] neighbours(int q) {
    return ids[q];
  }

  public int queries() {
    return ids.length;
  }

  /** Point {@code i} of {@code base} has id {@code i}. Runs on a private pool of {@code threads}. */
  public static GroundTruth compute(float[][] base, float[][] queries, int k, Metric metric, int threads) {
    long[][] out = new long[queries.length][];
    ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
    try {
      pool.submit(() -> IntStream.range(0, queries.length).parallel()
          .forEach(q -> out[q] = topK(base, queries[q], k, metric))).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while computing ground truth", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("ground truth failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return new GroundTruth(out, k);
  }

  static long[] topK(float[][] base, float[] query, int k, Metric metric) {
    int n = Math.min(k, base.length);
    long[] bestIds = new long[n];
    double[] bestScores = new double[n];
    Arrays.fill(bestScores, Double.NEGATIVE_INFINITY);
    Arrays.fill(bestIds, Long.MAX_VALUE);
    for (int i = 0; i < base.length; i++) {
      double s = metric.score(base[i], query);
      if (n == 0 || s < bestScores[n - 1] || (s == bestScores[n - 1] && i > bestIds[n - 1])) {
        continue;
      }
      // insertion into the sorted top list (k is small)
      int pos = n - 1;
      while (pos > 0 && (s > bestScores[pos - 1] || (s == bestScores[pos - 1] && i < bestIds[pos - 1]))) {
        bestScores[pos] = bestScores[pos - 1];
        bestIds[pos] = bestIds[pos - 1];
        pos--;
      }
      bestScores[pos] = s;
      bestIds[pos] = i;
    }
    return bestIds;
  }

  /** recall@k of one answer: the fraction of the exact top-k that the answer contains. */
  public static double recall(long[] truth, long[] answer) {
    if (truth.length == 0) {
      return 1.0;
    }
    long[] sortedTruth = truth.clone();
    Arrays.sort(sortedTruth);
    int hits = 0;
    long[] seen = new long[answer.length];
    int seenCount = 0;
    for (long id : answer) {
      if (Arrays.binarySearch(sortedTruth, id) >= 0 && !contains(seen, seenCount, id)) {
        seen[seenCount++] = id;
        hits++;
      }
    }
    return (double) hits / truth.length;
  }

  public double recall(int q, long[] answer) {
    return recall(ids[q], answer);
  }

  /** Magic of a {@link #save saved} ground truth: "QGT1". */
  static final int FILE_MAGIC = 0x51475431;

  /**
   * Writes the ids as {@code int magic, int queries, int k, queries x k long} (big-endian) so that
   * later runs with the same dataset, query count, k and metric can skip the brute force.
   */
  public void save(java.nio.file.Path file) throws java.io.IOException {
    java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
        java.nio.file.Files.newOutputStream(tmp)))) {
      out.writeInt(FILE_MAGIC);
      out.writeInt(ids.length);
      out.writeInt(k);
      for (long[] row : ids) {
        out.writeInt(row.length);
        for (long id : row) {
          out.writeLong(id);
        }
      }
    }
    java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads a file written by {@link #save}; null when it is missing or not for {@code queries} and {@code k}. */
  public static GroundTruth load(java.nio.file.Path file, int queries, int k) throws java.io.IOException {
    if (!java.nio.file.Files.isReadable(file)) {
      return null;
    }
    try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(
        java.nio.file.Files.newInputStream(file)))) {
      if (in.readInt() != FILE_MAGIC || in.readInt() != queries || in.readInt() != k) {
        return null;
      }
      long[][] ids = new long[queries][];
      for (int q = 0; q < queries; q++) {
        ids[q] = new long[in.readInt()];
        for (int i = 0; i < ids[q].length; i++) {
          ids[q][i] = in.readLong();
        }
      }
      return new GroundTruth(ids, k);
    }
  }

  private static boolean contains(long[] a, int n, long v) {
    for (int i = 0; i < n; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }
}
