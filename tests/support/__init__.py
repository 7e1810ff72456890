"""What the tests share (conftest modules hold fixtures only): the real-stack harness, the one
polling helper, one module per service (its in-process app or process, builders, waits), the
driven complaint workflow and the guard that keeps ``unit`` tests off the servers."""
