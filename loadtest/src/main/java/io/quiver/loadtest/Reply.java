package io.quiver.loadtest;

import io.vertx.core.json.JsonObject;

/**
 * One answer from the server as the bench tool sees it: the HTTP status (0 when no response arrived),
 * the Quiver error {@code code} for non-2xx answers, and the parsed JSON body when there was one.
 *
 * <p>Immutable and thread-safe. Transport failures (connection refused, client timeout) are
 * represented as replies with status 0 and a client-side code, so that every sent request ends in
 * exactly one reply and {@code sent = ok + errors} holds by construction.
 */
public record Reply(int status, String code, JsonObject body) {

  /** Code used when the request could not be sent or no response arrived. */
  public static final String CONNECTION_ERROR = "connection_error";
  /** Code used when the client-side timeout fired before a response arrived. */
  public static final String CLIENT_TIMEOUT = "client_timeout";
  /** Code used when the load driver refused to send because too many requests were in flight. */
  public static final String CLIENT_BACKLOG = "client_backlog";

  public boolean ok() {
    return status >= 200 && status < 300;
  }

  public static Reply success(int status, JsonObject body) {
    return new Reply(status, null, body);
  }

  public static Reply failure(int status, String code, JsonObject body) {
    return new Reply(status, code, body);
  }

  public static Reply clientError(String code) {
    return new Reply(0, code, null);
  }
}
