import XCTest

@testable import RiadMetrics
