import Pooling
import Testing

/// Method names with parameters, as every command writes them.
struct MethodParsingTests {
    @Test func parametersFollowTheirMethod() throws {
        let parsed = try MethodCatalog.parse("gem:p=3,lse,simpool-np:gamma=2,temperature=0.5,gmp:lambda=1000")
        #expect(parsed.map(\.name) == ["gem", "lse", "simpool-np", "gmp"])
        #expect(parsed[0].parameters["p"] == .some(3))
        #expect(parsed[2].parameters["gamma"] == .some(2) && parsed[2].parameters["temperature"] == .some(0.5))
        #expect(try MethodCatalog.parse("simpool:gamma=none")[0].parameters["gamma"] == .some(nil))
        #expect(try MethodCatalog.parse("all").map(\.name) == MethodCatalog.names)
    }

    @Test func specificationsRoundTrip() throws {
        for text in ["gem:p=3", "lse:r=10", "gmp:lambda=1000", "simpool-np:gamma=2,temperature=0.5", "simpool-np:gamma=none", "gap"] {
            let method = try MethodCatalog.make(try MethodCatalog.parse(text)[0], context: .init())
            #expect(method.specification == text)
        }
    }

    @Test func defaultsFollowTheDesign() throws {
        let vit = try MethodCatalog.make(.init(name: "simpool-np"), context: .init(isTransformer: true))
        let cnn = try MethodCatalog.make(.init(name: "simpool-np"), context: .init(isTransformer: false))
        #expect(vit.specification == "simpool-np:gamma=1.25" && cnn.specification == "simpool-np:gamma=2")
        // simpool without learned weights falls back to the non-parametric form.
        #expect(try MethodCatalog.make(.init(name: "simpool"), context: .init()).name == "simpool-np")
    }

    @Test(arguments: [("nope", "unknown method 'nope'"), ("gem:q=2", "gem has no parameter 'q' (it takes p)"),
                      ("gem:p=abc", "gem: p='abc' is not a number"), ("gap:x=1", "gap has no parameter 'x' (it takes none)"),
                      ("p=3", "parameter 'p=3' before any method name"), ("gem,,lse", "empty method name in 'gem,,lse'")])
    func badSpecificationsSayWhatIsWrong(text: String, message: String) {
        do {
            _ = try MethodCatalog.parse(text)
            Issue.record("accepted \(text)")
        } catch let error as PoolingError {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
