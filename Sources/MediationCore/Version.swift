/// The product's version, reported by health and `--version`.
public enum ProductVersion {
    public static let current = "0.1.0"
}
