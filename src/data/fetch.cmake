# msinet_fetch: sources listed here (see architecture.md).
