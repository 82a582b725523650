package fr.mesures.serveur.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A real file channel whose writes, syncs, truncations and reads can be made to fail, as a disk that fills up or a
 * filesystem remounted read-only makes them fail. A write told to tear writes part of its bytes before failing.
 */
final class FailingChannel extends FileChannel {

    private final FileChannel file;
    boolean failWrite;
    boolean tearWrite;
    boolean failForce;
    boolean failTruncate;
    boolean failRead;
    int forces;

    FailingChannel(FileChannel file) {
        this.file = file;
    }

    void heal() {
        failWrite = false;
        tearWrite = false;
        failForce = false;
        failTruncate = false;
        failRead = false;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (tearWrite && src.remaining() > 1) {
            ByteBuffer half = src.duplicate();
            half.limit(half.position() + half.remaining() / 2);
            int n = file.write(half, position);
            src.position(src.position() + n);
            tearWrite = false;
            failWrite = true;
            return n;
        }
        fail(failWrite, "write");
        return file.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
        forces++;
        fail(failForce, "fsync");
        file.force(metaData);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        fail(failTruncate, "truncate");
        file.truncate(size);
        return this;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        fail(failRead, "read");
        return file.read(dst, position);
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    private static void fail(boolean failing, String what) throws IOException {
        if (failing) {
            throw new IOException(what + ": Read-only file system (injected)");
        }
    }

    // The rest is not used by the store: plain delegation.

    @Override
    public int read(ByteBuffer dst) throws IOException {
        fail(failRead, "read");
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        fail(failRead, "read");
        return file.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        fail(failWrite, "write");
        return file.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        fail(failWrite, "write");
        return file.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        fail(failWrite, "write");
        return file.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return file.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
