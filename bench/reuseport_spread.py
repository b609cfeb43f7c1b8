#!/usr/bin/env python3
# Measures how evenly SO_REUSEPORT spreads connections from one client host over K acceptors
# (the figures in docs/architecture.md). Loopback only, bounded: at most 5000 connections a trial.
import socket, selectors, statistics, sys
def trial(K, N):
    ls=[]
    port=0
    for i in range(K):
        s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port)); s.listen(4096); port=s.getsockname()[1]; s.setblocking(False); ls.append(s)
    counts=[0]*K; conns=[]
    for n in range(N):
        c=socket.create_connection(("127.0.0.1",port)); conns.append(c)
        for i,s in enumerate(ls):
            try:
                a,_=s.accept(); a.close(); counts[i]+=1
            except BlockingIOError: pass
    for c in conns: c.close()
    for s in ls: s.close()
    return counts
for K in (2,4,16):
    for N in (100,1000,5000):
        worst=[]
        for t in range(5):
            c=trial(K,N); worst.append(max(c)/(N/K))
        print(f"K={K} N={N}: busiest acceptor holds {statistics.mean(worst):.2f}x its fair share (mean of 5), max {max(worst):.2f}x")
