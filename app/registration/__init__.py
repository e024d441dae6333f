"""就业信息登记: a graduate reports a 毕业去向 other than a signed agreement, for review."""
