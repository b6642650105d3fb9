package io.quiver.server;

/** A {@code ctl} failure: its one-line message goes to stderr and {@code exitCode} is the process's. */
final class CtlException extends RuntimeException {
  private final int exitCode;

  CtlException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }

  /** Runs a subcommand body: prints the one-line error of a failure and returns its exit code. */
  static int run(java.util.concurrent.Callable<Integer> body) {
    try {
      return body.call();
    } catch (CtlException e) {
      System.err.println("quiver ctl: " + e.getMessage());
      return e.exitCode();
    } catch (java.io.IOException e) {
      System.err.println("quiver ctl: " + e.getMessage());
      return CtlCommand.FAILED;
    } catch (Exception e) {
      System.err.println("quiver ctl: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return CtlCommand.FAILED;
    }
  }
}
