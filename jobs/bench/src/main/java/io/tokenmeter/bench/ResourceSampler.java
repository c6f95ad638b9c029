package io.tokenmeter.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Samples, twice a second while a contender runs, what only shows while it runs: the RocksDB
 * working folder (gone once the job ends), the newest completed checkpoint, and the resident memory
 * of the processes involved.
 */
public final class ResourceSampler implements AutoCloseable {

    private static final long PERIOD_MILLIS = 500;

    private final Path rocksDbDir;
    private final Path checkpointDir;
    private final Map<Long, Long> peakRssByPid = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long maxRocksDbBytes;
    private volatile long maxCheckpointBytes;
    private volatile long lastCheckpointBytes;
    private volatile long lastCheckpointId = -1;

    /** Either folder may be null when the contender has none. */
    public ResourceSampler(Path rocksDbDir, Path checkpointDir) {
        this.rocksDbDir = rocksDbDir;
        this.checkpointDir = checkpointDir;
        watch(ProcessHandle.current().pid());
        this.thread = new Thread(this::loop, "resource-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Adds a process whose peak resident memory counts. */
    public void watch(long pid) {
        peakRssByPid.putIfAbsent(pid, 0L);
    }

    private void loop() {
        while (running) {
            sample();
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void sample() {
        for (Long pid : peakRssByPid.keySet()) {
            // VmHWM is the kernel's own peak; sampling it keeps the peak of a process that has
            // exited by the end.
            peakRssByPid.merge(pid, ProcFs.peakRssBytes(pid), Math::max);
        }
        if (rocksDbDir != null) {
            maxRocksDbBytes = Math.max(maxRocksDbBytes, sizeOf(rocksDbDir));
        }
        if (checkpointDir != null) {
            newestCheckpoint(checkpointDir)
                    .ifPresent(
                            chk -> {
                                long id =
                                        Long.parseLong(
                                                chk.getFileName()
                                                        .toString()
                                                        .substring("chk-".length()));
                                if (id != lastCheckpointId) {
                                    long size = sizeOf(chk);
                                    lastCheckpointId = id;
                                    lastCheckpointBytes = size;
                                    maxCheckpointBytes = Math.max(maxCheckpointBytes, size);
                                }
                            });
        }
    }

    /** Stops sampling after one last sample. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
        sample();
    }

    public long maxRocksDbBytes() {
        return maxRocksDbBytes;
    }

    public long maxCheckpointBytes() {
        return maxCheckpointBytes;
    }

    public long lastCheckpointBytes() {
        return lastCheckpointBytes;
    }

    public long checkpoints() {
        return lastCheckpointId;
    }

    /**
     * The sum over the watched processes of each one's peak resident memory (an upper bound of
     * their joint peak).
     */
    public long peakRssBytes() {
        return peakRssByPid.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The completed checkpoint ({@code <job id>/chk-N} holding {@code _metadata}) with the highest
     * N.
     */
    static Optional<Path> newestCheckpoint(Path checkpoints) {
        try (Stream<Path> jobs = Files.list(checkpoints)) {
            return jobs.flatMap(ResourceSampler::listQuietly)
                    .filter(p -> p.getFileName().toString().matches("chk-\\d+"))
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max(
                            Comparator.comparingLong(
                                    p -> Long.parseLong(p.getFileName().toString().substring(4))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Bytes of all files under {@code dir}; files that vanish while counting (RocksDB compacts)
     * count as 0.
     */
    static long sizeOf(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.mapToLong(ResourceSampler::sizeQuietly).sum();
        } catch (NoSuchFileException | UncheckedIOException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long sizeQuietly(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static Stream<Path> listQuietly(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        try {
            return Files.list(dir).toList().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }
}
