// Placeholder until the first-boot helper CLI lands (helper-1 owns this file).
fn main() {}
