package io.quiver.common;

/**
 * A failure with a public {@link ErrorCode}. Thrown by validation and by shards; turned into a REST
 * error body or a gRPC status in exactly one place per protocol.
 *
 * <p>Over the internal gRPC link the status message is {@code "<code> <message>"} so the gateway can
 * recover the code: see {@link #toWireMessage()} and {@link #fromWireMessage(String)}.
 */
public class QuiverException extends RuntimeException {
  private final ErrorCode code;

  public QuiverException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public QuiverException(ErrorCode code, String message, Throwable cause) {
    super(message, cause, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public static QuiverException invalid(String message) {
    return new QuiverException(ErrorCode.INVALID_ARGUMENT, message);
  }

  public static QuiverException notFound(String message) {
    return new QuiverException(ErrorCode.NOT_FOUND, message);
  }

  /** The gRPC status message form: the code, a space, the message. */
  public String toWireMessage() {
    return code.code() + " " + getMessage();
  }

  /** Parses {@link #toWireMessage()}; a message without a known code becomes {@code fallback}. */
  public static QuiverException fromWireMessage(String wire, ErrorCode fallback) {
    if (wire != null) {
      int space = wire.indexOf(' ');
      String first = space < 0 ? wire : wire.substring(0, space);
      ErrorCode code = ErrorCode.fromCode(first);
      if (code != ErrorCode.INTERNAL || first.equals("internal")) {
        return new QuiverException(code, space < 0 ? "" : wire.substring(space + 1));
      }
    }
    return new QuiverException(fallback, wire == null ? fallback.code() : wire);
  }
}
