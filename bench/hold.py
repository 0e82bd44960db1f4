"""Holds connections open to a server on 127.0.0.1 and prints the server's
resident memory in MiB once it stops growing; then closes them.

    python3 bench/hold.py PORT PID N PATH [--answered]

Each of the N connections sends `GET PATH` (HTTP/1.1, keep-alive). With
--answered it reads the answer, so the connection is then idle; without,
the request stays pending (a `/slow` that sleeps). bench/server.sh holds
10,000 pending /slow, bench/abuse.sh IDLE idle connections.
"""

import argparse
import asyncio
import resource


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(next(l.split()[1] for l in status if l.startswith("VmRSS:")))


async def hold(port, n, path, answered):
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    sem = asyncio.Semaphore(256)

    async def one():
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(request)
            await w.drain()
            if answered:
                head = await r.readuntil(b"\r\n\r\n")
                length = int(next(l.split(b":")[1] for l in head.split(b"\r\n")
                                  if l.lower().startswith(b"content-length")))
                await r.readexactly(length)
            return w

    return await asyncio.gather(*(one() for _ in range(n)))


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("n", type=int)
    parser.add_argument("path")
    parser.add_argument("--answered", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    writers = await hold(args.port, args.n, args.path, args.answered)
    # Every request has been read once RSS stops growing (servers allocate
    # per request as they parse it).
    last = 0
    while abs(rss_kib(args.pid) - last) > last / 200:
        last = rss_kib(args.pid)
        await asyncio.sleep(0.5)
    print(f"{rss_kib(args.pid) / 1024:.1f}")
    for w in writers:
        w.close()


asyncio.run(main())
