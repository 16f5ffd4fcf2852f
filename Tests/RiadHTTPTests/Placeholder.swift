import XCTest

@testable import RiadHTTP
