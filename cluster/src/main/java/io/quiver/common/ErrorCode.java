package io.quiver.common;

/**
 * The public error codes of API.md §2, with their HTTP status and gRPC status code.
 *
 * <p>This enum is the single table that maps a failure to what each protocol shows; REST and gRPC
 * adapters read it and nothing else. Immutable, thread-safe.
 */
public enum ErrorCode {
  INVALID_ARGUMENT("invalid_argument", 400, 3, false),
  UNAUTHORIZED("unauthorized", 401, 16, false),
  FORBIDDEN("forbidden", 403, 7, false),
  READ_ONLY("read_only", 403, 9, false),
  NOT_FOUND("not_found", 404, 5, false),
  CONFLICT("conflict", 409, 6, false),
  PAYLOAD_TOO_LARGE("payload_too_large", 413, 8, false),
  RATE_LIMITED("rate_limited", 429, 8, true),
  RESOURCE_EXHAUSTED("resource_exhausted", 429, 8, true),
  OVERLOADED("overloaded", 503, 14, true),
  SHARD_UNAVAILABLE("shard_unavailable", 503, 14, true),
  STORAGE_UNAVAILABLE("storage_unavailable", 503, 14, false),
  TIMEOUT("timeout", 504, 4, false),
  /** A write raced an ownership change (stale partition epoch); the gateway refreshes and retries. */
  STALE_EPOCH("stale_epoch", 503, 10, true),
  INTERNAL("internal", 500, 13, false);

  private final String code;
  private final int httpStatus;
  private final int grpcStatus;
  private final boolean retryAfter;

  ErrorCode(String code, int httpStatus, int grpcStatus, boolean retryAfter) {
    this.code = code;
    this.httpStatus = httpStatus;
    this.grpcStatus = grpcStatus;
    this.retryAfter = retryAfter;
  }

  /** The wire name, e.g. {@code "invalid_argument"}. */
  public String code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The numeric gRPC status code (io.grpc / vertx GrpcStatus numbering). */
  public int grpcStatus() {
    return grpcStatus;
  }

  /** Whether responses carry a {@code Retry-After} header. */
  public boolean retryAfter() {
    return retryAfter;
  }

  /** The code for a wire name, or {@link #INTERNAL} when unknown. */
  public static ErrorCode fromCode(String code) {
    for (ErrorCode c : values()) {
      if (c.code.equals(code)) {
        return c;
      }
    }
    return INTERNAL;
  }
}
