# msinet_image: sources listed here (see architecture.md).
