// libFuzzer target for RiadHTTP's parsers (written with the parser).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { 0 }
