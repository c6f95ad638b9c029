package io.tokenmeter.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokenmeter.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * A Flink session cluster as an operator sees it, through its REST API: the jobs half of {@code
 * scripts/cluster.sh} ({@link Cli}: status, list, submit, resume, cancel, stop-with-savepoint,
 * checkpoint) and the fault suite's observations. The local processes (start, stop, TaskManagers)
 * are the script's own; the fault suite kills and starts TaskManagers through it, exactly as
 * docs/operations.md does.
 */
final class FlinkCluster {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** An upload sends the whole job jar. */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(5);

    private static final String ENTRY_CLASS = "io.tokenmeter.metering.MeteringJob";

    @Nullable private final Path script;
    private final Path root;
    private final String address;
    private final String base;

    /** Where progress lines go: standard error for an operator, nowhere for the fault suite. */
    private final Consumer<String> progress;

    private final HttpClient http =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();

    /** A cluster whose local TaskManagers {@code script} (scripts/cluster.sh) manages. */
    FlinkCluster(Path script, String address) {
        this(script, script.toAbsolutePath().getParent().getParent(), address, line -> {});
    }

    private FlinkCluster(
            @Nullable Path script, Path root, String address, Consumer<String> progress) {
        this.script = script;
        this.root = root;
        this.address = address;
        this.base = address.startsWith("http") ? address : "http://" + address;
        this.progress = progress;
    }

    String address() {
        return address;
    }

    // ---- jobs, through the REST API ----

    /** Submits the job jar; returns the job id. */
    String submit(int parallelism, @Nullable String savepoint, List<String> jobArgs) {
        return submit(null, parallelism, savepoint, false, jobArgs);
    }

    /**
     * Uploads {@code jar} (null: the metering job jar of this repository's build), runs it and
     * deletes the upload.
     *
     * @param parallelism the job's parallelism, 0 for the cluster's default
     * @return the job id
     */
    String submit(
            @Nullable Path jar,
            int parallelism,
            @Nullable String savepoint,
            boolean allowNonRestoredState,
            List<String> jobArgs) {
        Path jarFile = jar != null ? jar : defaultJar();
        if (!Files.isRegularFile(jarFile)) {
            throw new Failure("no such jar: " + jarFile);
        }
        String uploaded =
                Path.of(upload(jarFile).path("filename").asText()).getFileName().toString();
        ObjectNode body = JSON.createObjectNode().put("entryClass", ENTRY_CLASS);
        jobArgs.forEach(body.putArray("programArgsList")::add);
        if (parallelism > 0) {
            body.put("parallelism", parallelism);
        }
        if (savepoint != null) {
            body.put("savepointPath", savepoint)
                    .put("allowNonRestoredState", allowNonRestoredState);
        }
        String jobId =
                send("POST", "/jars/" + uploaded + "/run", json(body), REQUEST_TIMEOUT)
                        .path("jobid")
                        .asText();
        try {
            send(
                    "DELETE",
                    "/jars/" + uploaded,
                    HttpRequest.BodyPublishers.noBody(),
                    REQUEST_TIMEOUT);
        } catch (RuntimeException e) {
            // the job runs; an upload left behind only takes disk space on the JobManager
        }
        progress.accept(
                "Submitted job "
                        + jobId
                        + (savepoint != null ? " from " + savepoint : "")
                        + (parallelism > 0 ? " at parallelism " + parallelism : ""));
        return jobId;
    }

    /** Cancels the job (its last checkpoints are retained) and waits until it is. */
    void cancel(String jobId) {
        send(
                "PATCH",
                "/jobs/" + jobId + "?mode=cancel",
                HttpRequest.BodyPublishers.noBody(),
                REQUEST_TIMEOUT);
        awaitJobState(jobId, "CANCELED", Duration.ofSeconds(120));
        progress.accept("Job " + jobId + " cancelled");
    }

    /** Stops the job with a savepoint; returns its path. */
    String stopWithSavepoint(String jobId) {
        return stopWithSavepoint(jobId, null, false);
    }

    /**
     * Stops the job with a drained savepoint: the end of the input, which closes every open hour
     * and day.
     */
    String drain(String jobId) {
        return stopWithSavepoint(jobId, null, true);
    }

    /**
     * Takes a savepoint and stops the job; returns the savepoint's path.
     *
     * @param directory where the savepoint goes, null for the cluster's default
     * @param drain end event time first (closes every open hour and day)
     */
    String stopWithSavepoint(String jobId, @Nullable String directory, boolean drain) {
        ObjectNode body =
                JSON.createObjectNode().put("drain", drain).put("formatType", "CANONICAL");
        if (directory != null) {
            body.put("targetDirectory", directory);
        }
        String trigger =
                send("POST", "/jobs/" + jobId + "/stop", json(body), REQUEST_TIMEOUT)
                        .path("request-id")
                        .asText();
        JsonNode result =
                poll(
                        Duration.ofSeconds(600),
                        Duration.ofSeconds(1),
                        () -> get("/jobs/" + jobId + "/savepoints/" + trigger),
                        FlinkCluster::completed);
        if (!completed(result)) {
            throw new Failure("stop-with-savepoint of " + jobId + " did not complete within 600 s");
        }
        JsonNode operation = result.path("operation");
        String location = operation.path("location").asText("");
        if (location.isEmpty()) {
            JsonNode cause = operation.path("failure-cause").path("stack-trace");
            String why = cause.isMissingNode() ? operation.toString() : cause.asText();
            throw new Failure("stop-with-savepoint failed: " + firstLines(why, 20));
        }
        awaitJobState(jobId, "FINISHED", Duration.ofSeconds(120));
        progress.accept("Job " + jobId + " stopped with savepoint " + location);
        return location;
    }

    private static boolean completed(JsonNode asynchronousOperation) {
        return "COMPLETED".equals(asynchronousOperation.path("status").path("id").asText());
    }

    /** The path of the job's latest completed checkpoint. */
    String latestCheckpoint(String jobId) {
        String path =
                get("/jobs/" + jobId + "/checkpoints")
                        .path("latest")
                        .path("completed")
                        .path("external_path")
                        .asText("");
        if (path.isEmpty()) {
            throw new Failure("job " + jobId + " has no completed checkpoint");
        }
        return path;
    }

    /** One line on the cluster: its version, TaskManagers, slots and jobs by state. */
    String status() {
        JsonNode o = get("/overview");
        return "Flink "
                + o.path("flink-version").asText()
                + " at "
                + base
                + ": "
                + o.path("taskmanagers").asText()
                + " TaskManagers, "
                + o.path("slots-available").asText()
                + "/"
                + o.path("slots-total").asText()
                + " slots free, jobs: "
                + o.path("jobs-running").asText()
                + " running, "
                + o.path("jobs-finished").asText()
                + " finished, "
                + o.path("jobs-cancelled").asText()
                + " cancelled, "
                + o.path("jobs-failed").asText()
                + " failed";
    }

    /** The jobs, newest first: id, state, tasks and name. */
    List<String> jobs() {
        List<JsonNode> jobs = new ArrayList<>();
        get("/jobs/overview").path("jobs").forEach(jobs::add);
        jobs.sort(
                Comparator.comparingLong((JsonNode job) -> job.path("start-time").asLong())
                        .reversed());
        List<String> lines = new ArrayList<>();
        for (JsonNode job : jobs) {
            lines.add(
                    job.path("jid").asText()
                            + "  "
                            + job.path("state").asText()
                            + "  parallelism-tasks "
                            + job.path("tasks").path("total").asText()
                            + "  "
                            + job.path("name").asText());
        }
        return lines;
    }

    private void awaitJobState(String jobId, String state, Duration timeout) {
        if (!state.equals(
                poll(timeout, Duration.ofSeconds(1), () -> jobState(jobId), state::equals))) {
            throw new Failure(
                    "job "
                            + jobId
                            + " did not reach "
                            + state
                            + " within "
                            + timeout.toSeconds()
                            + " s");
        }
    }

    private Path defaultJar() {
        Path dir = root.resolve("jobs/metering/target");
        try (var jars = Files.newDirectoryStream(dir, "tokenmeter-metering-*-job.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        } catch (IOException e) {
            // no build folder: no jar
        }
        throw new Failure(
                "no job jar; build it with: mvn -B package -DskipTests -pl jobs/metering -am");
    }

    // ---- local TaskManagers, through the script ----

    void killTaskManager(int number) {
        run(List.of("taskmanager", "kill", Integer.toString(number)));
    }

    void startTaskManager(int number) {
        run(List.of("taskmanager", "start", Integer.toString(number)));
    }

    /** Whether the local TaskManager process {@code number} is alive. */
    boolean taskManagerAlive(int number) {
        return exec(List.of("taskmanager", "pid", Integer.toString(number))).exitCode == 0;
    }

    private String run(List<String> args) {
        Result result = exec(args);
        if (result.exitCode != 0) {
            throw new IllegalStateException(
                    "scripts/cluster.sh "
                            + String.join(" ", args)
                            + " failed ("
                            + result.exitCode
                            + "): "
                            + result.stderr.strip());
        }
        return result.stdout.strip();
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private Result exec(List<String> args) {
        if (script == null) {
            throw new IllegalStateException(
                    "no scripts/cluster.sh to manage local TaskManagers with");
        }
        List<String> command = new ArrayList<>(List.of(script.toString(), "--address", address));
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            var stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
            String stdout = readAll(process.getInputStream());
            int exit = process.waitFor();
            return new Result(exit, stdout, stderr.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- observations, through the REST API ----

    JsonNode get(String path) {
        return send("GET", path, HttpRequest.BodyPublishers.noBody(), REQUEST_TIMEOUT);
    }

    /**
     * The JSON answer of a request; a {@link Failure} with Flink's own error messages on an HTTP
     * error.
     */
    private JsonNode send(
            String method, String path, HttpRequest.BodyPublisher body, Duration timeout) {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .timeout(timeout)
                        .method(method, body)
                        .header("Content-Type", "application/json")
                        .build(),
                method + " " + path);
    }

    private JsonNode send(HttpRequest request, String what) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Failure("cannot reach Flink at " + base + " (" + what + ": " + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        JsonNode answer;
        try {
            answer =
                    response.body().isBlank()
                            ? JSON.createObjectNode()
                            : JSON.readTree(response.body());
        } catch (IOException e) {
            answer = null;
        }
        if (response.statusCode() >= 400) {
            List<String> messages = new ArrayList<>();
            if (answer != null) {
                answer.path("errors").forEach(error -> messages.add(error.asText()));
            }
            String errors = answer == null ? response.body() : String.join("; ", messages);
            throw new Failure(
                    what
                            + ": HTTP "
                            + response.statusCode()
                            + " "
                            + errors.substring(0, Math.min(2000, errors.length())));
        }
        if (answer == null) {
            throw new Failure(what + ": not JSON: " + firstLines(response.body(), 5));
        }
        return answer;
    }

    /**
     * Uploads a jar as Flink's web monitor takes it: a multipart form with the field {@code
     * jarfile}.
     */
    private JsonNode upload(Path jar) {
        String boundary = "tokenmeter-" + UUID.randomUUID();
        String head =
                "--"
                        + boundary
                        + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + jar.getFileName()
                        + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest.BodyPublisher body;
        try {
            body =
                    HttpRequest.BodyPublishers.concat(
                            HttpRequest.BodyPublishers.ofString(head),
                            HttpRequest.BodyPublishers.ofFile(jar),
                            HttpRequest.BodyPublishers.ofString(tail));
        } catch (IOException e) {
            throw new Failure("cannot read " + jar + ": " + e, e);
        }
        return send(
                HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                        .timeout(UPLOAD_TIMEOUT)
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(body)
                        .build(),
                "POST /jars/upload");
    }

    private static HttpRequest.BodyPublisher json(JsonNode body) {
        return HttpRequest.BodyPublishers.ofString(body.toString());
    }

    private static String firstLines(String text, int lines) {
        return text.lines().limit(lines).collect(Collectors.joining("\n"));
    }

    /** {@link Await#poll}, an interrupt reported as a failure like every other of the commands. */
    private static <T> T poll(
            Duration timeout, Duration interval, Await.Probe<T> probe, Predicate<? super T> done) {
        try {
            return Await.poll(timeout, interval, probe, done);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    String jobState(String jobId) {
        return get("/jobs/" + jobId).path("state").asText();
    }

    long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /** How often the job restarted since it was submitted. */
    long restarts(String jobId) {
        long metric = 0;
        for (JsonNode value : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
            metric = value.path("value").asLong();
        }
        // The metric alone is not enough: after a TaskManager halted in the middle of a checkpoint
        // the web monitor served no job metric at all for minutes, and then numRestarts = 0 for a
        // job that had restarted twice. The exception history comes from the JobMaster itself, one
        // entry per failure that restarted the job.
        long failures =
                get("/jobs/" + jobId + "/exceptions")
                        .path("exceptionHistory")
                        .path("entries")
                        .size();
        return Math.max(metric, failures);
    }

    /** The stack traces in the job's exception history, newest first. */
    List<String> failures(String jobId) {
        List<String> failures = new ArrayList<>();
        for (JsonNode entry :
                get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")) {
            failures.add(entry.path("stacktrace").asText());
        }
        return failures;
    }

    /** The numbers (1, 2, ...) of the local TaskManagers running at least one task. */
    List<Integer> busyTaskManagers() {
        List<Integer> busy = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            String id = tm.path("id").asText();
            if (id.startsWith("taskmanager-")
                    && tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
                busy.add(Integer.parseInt(id.substring("taskmanager-".length())));
            }
        }
        return busy;
    }

    /**
     * Waits until the job has completed at least {@code count} checkpoints since it was submitted.
     */
    void awaitCheckpoints(String jobId, long count, Duration timeout)
            throws TimeoutException, InterruptedException {
        await(
                () -> completedCheckpoints(jobId) >= count,
                timeout,
                "job " + jobId + " to complete " + count + " checkpoints");
    }

    /** Waits until {@code condition} holds, asking the cluster every {@link #POLL}. */
    static void await(Await.Probe<Boolean> condition, Duration timeout, String what)
            throws TimeoutException, InterruptedException {
        Await.until(timeout, POLL, condition, what);
    }

    /** A failure an operator can act on: the command line prints its message alone. */
    static final class Failure extends IllegalStateException {

        Failure(String message) {
            super(message);
        }

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The REST half of {@code scripts/cluster.sh}, for any Flink 2.x cluster. The address is {@code
     * --address}, else {@code FLINK_REST_ADDRESS}, else the local cluster's ({@code
     * CLUSTER_DIR/rest-address}), else localhost:8081. Answers go to standard output, progress to
     * standard error; a failure prints {@code cluster.sh: <why>} and exits 1.
     */
    @Command(
            name = "cluster",
            mixinStandardHelpOptions = true,
            description =
                    "The jobs of a Flink 2.x cluster through its REST API (scripts/cluster.sh).",
            subcommands = {
                Cli.Status.class,
                Cli.Jobs.class,
                Cli.Submit.class,
                Cli.Resume.class,
                Cli.Cancel.class,
                Cli.StopWithSavepoint.class,
                Cli.Checkpoint.class,
                Cli.AwaitTaskManagers.class
            })
    static final class Cli {

        @Option(names = "--address", description = "REST address HOST:PORT or a URL.")
        String address;

        @Option(
                names = "--cluster-dir",
                description = "The local cluster's folder, whose rest-address is the default.")
        Path clusterDir;

        @Option(
                names = "--root",
                defaultValue = ".",
                description = "The repository, for the default job jar.")
        Path root;

        FlinkCluster cluster() {
            String a = address;
            if (a == null || a.isEmpty()) {
                a = System.getenv("FLINK_REST_ADDRESS");
            }
            if ((a == null || a.isEmpty())
                    && clusterDir != null
                    && Files.isRegularFile(clusterDir.resolve("rest-address"))) {
                try {
                    a = Files.readString(clusterDir.resolve("rest-address")).strip();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return new FlinkCluster(
                    null,
                    root,
                    a == null || a.isEmpty() ? "localhost:8081" : a,
                    System.err::println);
        }

        /**
         * One command: its answer goes to standard output; a {@link Failure} is reported the way
         * the script always reported its own, {@code cluster.sh: <why>} and exit status 1.
         */
        abstract static class Action implements Callable<Integer> {
            @ParentCommand Cli cli;

            /** What the command prints, line by line. */
            abstract List<String> answer(FlinkCluster cluster);

            @Override
            public Integer call() {
                try {
                    answer(cli.cluster()).forEach(System.out::println);
                    return 0;
                } catch (Failure e) {
                    System.err.println("cluster.sh: " + e.getMessage());
                    return 1;
                }
            }
        }

        @Command(
                name = "status",
                mixinStandardHelpOptions = true,
                description = "TaskManagers, slots and jobs.")
        static final class Status extends Action {
            @Override
            List<String> answer(FlinkCluster cluster) {
                List<String> lines = new ArrayList<>(List.of(cluster.status()));
                lines.addAll(cluster.jobs());
                return lines;
            }
        }

        @Command(
                name = "list",
                mixinStandardHelpOptions = true,
                description = "Jobs with their state.")
        static final class Jobs extends Action {
            @Override
            List<String> answer(FlinkCluster cluster) {
                return cluster.jobs();
            }
        }

        @Command(
                name = "submit",
                mixinStandardHelpOptions = true,
                description = "Uploads the job jar and runs it; prints the job id.")
        static final class Submit extends Action {
            @Mixin JobOptions job;

            @Option(names = "--from-savepoint", paramLabel = "PATH")
            String savepoint;

            @Parameters(paramLabel = "JOB_ARGS", description = "After --: the job's arguments.")
            List<String> jobArgs = new ArrayList<>();

            @Override
            List<String> answer(FlinkCluster cluster) {
                return List.of(
                        cluster.submit(
                                job.jar,
                                job.parallelism,
                                savepoint,
                                job.allowNonRestoredState,
                                jobArgs));
            }
        }

        /** What submit and resume share. */
        static final class JobOptions {
            @Option(
                    names = "--jar",
                    description = "Default: jobs/metering/target/tokenmeter-metering-*-job.jar.")
            Path jar;

            @Option(names = "--parallelism", description = "Default: the cluster's.")
            int parallelism;

            @Option(names = "--allow-non-restored-state")
            boolean allowNonRestoredState;
        }

        @Command(
                name = "resume",
                mixinStandardHelpOptions = true,
                description =
                        "Submits from a savepoint or retained checkpoint, e.g. at another "
                                + "parallelism: resume PATH --parallelism N [-- JOB ARGS...].")
        static final class Resume extends Action {
            @Parameters(index = "0", paramLabel = "PATH")
            String path;

            @Mixin JobOptions job;

            @Parameters(
                    index = "1..*",
                    paramLabel = "JOB_ARGS",
                    description = "After --: the job's arguments.")
            List<String> jobArgs = new ArrayList<>();

            @Override
            List<String> answer(FlinkCluster cluster) {
                return List.of(
                        cluster.submit(
                                job.jar,
                                job.parallelism,
                                path,
                                job.allowNonRestoredState,
                                jobArgs));
            }
        }

        @Command(
                name = "cancel",
                mixinStandardHelpOptions = true,
                description = "Cancels a job (its last checkpoints are retained).")
        static final class Cancel extends Action {
            @Parameters(paramLabel = "JOB_ID")
            String jobId;

            @Override
            List<String> answer(FlinkCluster cluster) {
                cluster.cancel(jobId);
                return List.of();
            }
        }

        @Command(
                name = "stop-with-savepoint",
                mixinStandardHelpOptions = true,
                description = "Takes a savepoint and stops the job; prints its path.")
        static final class StopWithSavepoint extends Action {
            @Parameters(paramLabel = "JOB_ID")
            String jobId;

            @Option(names = "--savepoint-dir", paramLabel = "DIR")
            String directory;

            @Option(
                    names = "--drain",
                    description =
                            "Ends event time first: for the end of an input, never before a"
                                    + " restore.")
            boolean drain;

            @Override
            List<String> answer(FlinkCluster cluster) {
                return List.of(cluster.stopWithSavepoint(jobId, directory, drain));
            }
        }

        @Command(
                name = "checkpoint",
                mixinStandardHelpOptions = true,
                description = "Path of the job's latest completed checkpoint.")
        static final class Checkpoint extends Action {
            @Parameters(paramLabel = "JOB_ID")
            String jobId;

            @Override
            List<String> answer(FlinkCluster cluster) {
                return List.of(cluster.latestCheckpoint(jobId));
            }
        }

        /**
         * For {@code scripts/cluster.sh start}: waits until every TaskManager has registered,
         * failing as soon as one of the local processes (their pid files in the cluster folder) has
         * exited.
         */
        @Command(name = "await-taskmanagers", hidden = true)
        static final class AwaitTaskManagers extends Action {
            @Parameters(paramLabel = "N")
            int taskManagers;

            @Option(names = "--timeout", defaultValue = "180", paramLabel = "SECONDS")
            int timeoutSeconds;

            @Override
            List<String> answer(FlinkCluster cluster) {
                Path dir = cli.clusterDir;
                long registered =
                        poll(
                                Duration.ofSeconds(timeoutSeconds),
                                Duration.ofSeconds(1),
                                () -> {
                                    if (!alive(dir.resolve("jobmanager.pid"))) {
                                        throw new Failure(
                                                "the JobManager exited; see "
                                                        + dir.resolve("log/jobmanager.log")
                                                        + " and .out");
                                    }
                                    for (int tm = 1; tm <= taskManagers; tm++) {
                                        if (!alive(dir.resolve("taskmanager-" + tm + ".pid"))) {
                                            throw new Failure(
                                                    "TaskManager "
                                                            + tm
                                                            + " exited; see "
                                                            + dir.resolve(
                                                                    "log/taskmanager-"
                                                                            + tm
                                                                            + ".log")
                                                            + " and .out");
                                        }
                                    }
                                    try {
                                        return cluster.get("/overview")
                                                .path("taskmanagers")
                                                .asLong();
                                    } catch (Failure notYet) {
                                        return 0L; // the REST endpoint is not up yet
                                    }
                                },
                                n -> n == taskManagers);
                if (registered != taskManagers) {
                    throw new Failure(
                            "only "
                                    + registered
                                    + " of "
                                    + taskManagers
                                    + " TaskManagers registered; see "
                                    + dir.resolve("log"));
                }
                return List.of();
            }

            private static boolean alive(Path pidFile) {
                try {
                    long pid = Long.parseLong(Files.readString(pidFile).strip());
                    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                } catch (IOException | NumberFormatException e) {
                    return false;
                }
            }
        }
    }
}
