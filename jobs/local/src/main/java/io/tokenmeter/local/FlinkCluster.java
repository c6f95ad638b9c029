package io.tokenmeter.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A Flink session cluster as an operator sees it: every action goes through {@code scripts/cluster.sh} (so the
 * fault suite drives the cluster exactly as docs/operations.md does), observations through the REST API.
 */
final class FlinkCluster {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL = Duration.ofMillis(500);

    private final Path script;
    private final String address;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    FlinkCluster(Path script, String address) {
        this.script = script;
        this.address = address;
    }

    String address() {
        return address;
    }

    // ---- actions, through the script ----

    /** Submits the job jar; returns the job id. */
    String submit(int parallelism, String savepoint, List<String> jobArgs) {
        List<String> args = new ArrayList<>(List.of("submit", "--parallelism", Integer.toString(parallelism)));
        if (savepoint != null) {
            args.addAll(List.of("--from-savepoint", savepoint));
        }
        args.add("--");
        args.addAll(jobArgs);
        return run(args);
    }

    void cancel(String jobId) {
        run(List.of("cancel", jobId));
    }

    /** Stops the job with a savepoint; returns its path. */
    String stopWithSavepoint(String jobId) {
        return run(List.of("stop-with-savepoint", jobId));
    }

    /** Stops the job with a drained savepoint: the end of the input, which closes every open hour and day. */
    String drain(String jobId) {
        return run(List.of("stop-with-savepoint", jobId, "--drain"));
    }

    /** The path of the job's latest completed checkpoint. */
    String latestCheckpoint(String jobId) {
        return run(List.of("checkpoint", jobId));
    }

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
            throw new IllegalStateException("scripts/cluster.sh " + String.join(" ", args) + " failed ("
                    + result.exitCode + "): " + result.stderr.strip());
        }
        return result.stdout.strip();
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private Result exec(List<String> args) {
        List<String> command = new ArrayList<>(List.of(script.toString(), "--address", address));
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            var stderr = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
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

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- observations, through the REST API ----

    JsonNode get(String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + path))
                .timeout(Duration.ofSeconds(30)).GET().build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 400) {
                throw new IllegalStateException("GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path, e);
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
        // The metric alone is not enough: after a TaskManager halted in the middle of a checkpoint the web monitor
        // served no job metric at all for minutes, and then numRestarts = 0 for a job that had restarted twice.
        // The exception history comes from the JobMaster itself, one entry per failure that restarted the job.
        long failures = get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries").size();
        return Math.max(metric, failures);
    }

    /** The stack traces in the job's exception history, newest first. */
    List<String> failures(String jobId) {
        List<String> failures = new ArrayList<>();
        for (JsonNode entry : get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")) {
            failures.add(entry.path("stacktrace").asText());
        }
        return failures;
    }

    /** The numbers (1, 2, ...) of the local TaskManagers running at least one task. */
    List<Integer> busyTaskManagers() {
        List<Integer> busy = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            String id = tm.path("id").asText();
            if (id.startsWith("taskmanager-") && tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
                busy.add(Integer.parseInt(id.substring("taskmanager-".length())));
            }
        }
        return busy;
    }

    /** Waits until the job has completed at least {@code count} checkpoints since it was submitted. */
    void awaitCheckpoints(String jobId, long count, Duration timeout) throws TimeoutException, InterruptedException {
        await(() -> completedCheckpoints(jobId) >= count, timeout,
                "job " + jobId + " to complete " + count + " checkpoints");
    }

    static void await(BooleanSupplier condition, Duration timeout, String what)
            throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("gave up waiting " + timeout.toSeconds() + " s for " + what);
            }
            Thread.sleep(POLL.toMillis());
        }
    }
}
