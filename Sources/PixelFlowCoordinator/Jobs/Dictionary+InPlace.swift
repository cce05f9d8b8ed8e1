extension Dictionary {
    /// Runs `body` on the value at `index` where it is stored. Reading `values[index].field` would copy the whole
    /// value first (the subscript's getter returns it, retaining all it holds); this goes through the subscript's
    /// in-place accessor instead. For job records that copy was most of what a field read cost.
    @inline(__always)
    mutating func inPlace<Result>(at index: Index, _ body: (inout Value) throws -> Result) rethrows -> Result {
        try body(&values[index])
    }
}
