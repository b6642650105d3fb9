package io.quiver.gateway;

import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Auth mode {@code api_key}: a static table of keys, each bound to one tenant and a set of scopes,
 * parsed from {@code QUIVER_API_KEYS} = {@code key:tenant:scopes[,key:tenant:scopes...]} where
 * scopes are {@code read}, {@code write}, {@code admin} joined by {@code +} (left out: {@code
 * read+write}). A request presents its key as {@code x-api-key} or {@code Authorization: Bearer}.
 *
 * <p>Keys are held as SHA-256 digests, so the lookup time does not depend on how much of a guessed
 * key is right and a heap dump does not show them. Immutable, thread-safe.
 */
public final class ApiKeyAuthenticator implements Authenticator {
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
  private static final Set<Scope> DEFAULT_SCOPES = EnumSet.of(Scope.READ, Scope.WRITE);

  private final Map<String, Principal> byDigest;

  public ApiKeyAuthenticator(String spec) {
    this.byDigest = parse(spec);
  }

  @Override
  public Future<Principal> authenticate(Credentials credentials) {
    String key = credentials.apiKey() != null ? credentials.apiKey().trim() : credentials.bearer();
    if (key == null || key.isEmpty()) {
      return Future.failedFuture(Authenticator.unauthorized("missing credentials: send x-api-key or Authorization: Bearer <key>"));
    }
    Principal p = byDigest.get(digest(key));
    return p == null ? Future.failedFuture(Authenticator.unauthorized("unknown API key")) : Future.succeededFuture(p);
  }

  /** Parses a key table; {@link IllegalArgumentException} names the bad entry by position, never the key. */
  static Map<String, Principal> parse(String spec) {
    Map<String, Principal> out = new HashMap<>();
    if (spec == null || spec.isBlank()) {
      return out;
    }
    String[] entries = spec.split(",");
    for (int i = 0; i < entries.length; i++) {
      String entry = entries[i].trim();
      String[] parts = entry.split(":", -1);
      String where = "QUIVER_API_KEYS entry " + (i + 1);
      if (parts.length < 2 || parts.length > 3) {
        throw new IllegalArgumentException(where + " must be key:tenant or key:tenant:scopes");
      }
      String key = parts[0];
      if (key.isEmpty() || !key.equals(key.strip())) {
        throw new IllegalArgumentException(where + " has an empty key or one with surrounding spaces");
      }
      if (!TENANT.matcher(parts[1]).matches()) {
        throw new IllegalArgumentException(where + " has tenant '" + parts[1] + "'; use 1-64 letters, digits, '_', '-' or '.'");
      }
      Set<Scope> scopes = parts.length == 3 ? scopes(parts[2], where) : DEFAULT_SCOPES;
      if (out.put(digest(key), new Principal(parts[1], scopes)) != null) {
        throw new IllegalArgumentException(where + " repeats a key that an earlier entry already has");
      }
    }
    return out;
  }

  private static Set<Scope> scopes(String s, String where) {
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String name : s.split("\\+")) {
      Scope scope = Scope.fromWireName(name.trim());
      if (scope == null) {
        throw new IllegalArgumentException(where + " has scope '" + name + "'; use read, write, admin joined by '+'");
      }
      scopes.add(scope);
    }
    return scopes;
  }

  private static String digest(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
