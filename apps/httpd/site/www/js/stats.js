// Shows the server's request counter, fetched from /api/stats.
fetch("/api/stats")
  .then((r) => r.json())
  .then((s) => {
    document.getElementById("status").textContent =
      `${s.requests} requests served, up ${s.uptime_seconds} s on ${s.goos}`;
  })
  .catch((e) => {
    document.getElementById("status").textContent = `stats unavailable: ${e}`;
  });
