# msinet_datasets: sources listed here (see architecture.md).
