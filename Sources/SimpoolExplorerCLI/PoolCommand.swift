import ArgumentParser
import Checkpoints
import Foundation
import ModelRuntime
import Pooling
import Tensors

/// `simpool-explorer pool FEATURES.npy`: pooling for people who bring their own features.
struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Apply pooling methods to saved features ([N,d], [h,w,d] or, with --channels-first, [d,h,w]).")

    @Argument(help: "A float32 or float64 .npy file.")
    var features: String

    @Option(help: "Methods with parameters, e.g. gem:p=3,simpool-np:gamma=2 or all.")
    var method = "simpool"

    @Option(help: "A safetensors or PyTorch file holding a SimPool head (gp.pool.*, global_pool.pool.* or simpool.*).")
    var weights: String?

    @Option(help: "γ for the SimPool methods (shorthand for :gamma=G).")
    var gamma: Double?

    @Option(help: "Attention heads for the SimPool methods.")
    var heads: Int?

    @Flag(help: "Features are [d, h, w] (channels first, as CNN feature maps).")
    var channelsFirst = false

    @Option(help: "Write the map as float32 .npy: [h, w] with a grid, else [N]. One method only.")
    var out: String?

    @Option(help: "Write the pooled vector as float32 .npy [d]. One method only.")
    var pooled: String?

    @Flag(help: "Overwrite existing output files.")
    var force = false

    @Flag(help: "Print JSON (one object per method, with the full map and vector).")
    var json = false

    func validate() throws {
        if let heads, heads < 1 { throw ValidationError("--heads must be at least 1") }
        if let gamma, gamma <= 0 { throw ValidationError("--gamma must be positive") }
    }

    func run() throws {
        var specifications: [MethodCatalog.Specification]
        do {
            specifications = try MethodCatalog.parse(method)
        } catch let error as PoolingError {
            throw ValidationError(error.description)
        }
        if (out != nil || pooled != nil) && specifications.count != 1 {
            throw ValidationError("--out and --pooled take one method; \(specifications.count) given")
        }
        for i in specifications.indices where specifications[i].name.hasPrefix("simpool") {
            if let gamma, specifications[i].parameters["gamma"] == nil { specifications[i].parameters["gamma"] = gamma }
            if let heads, specifications[i].parameters["heads"] == nil { specifications[i].parameters["heads"] = Double(heads) }
        }

        let input: PoolingInput
        var context = MethodCatalog.Context()
        do {
            input = try loadFeatures()
            if let weights {
                guard let head = try SimPoolHead.load(try Checkpoint.open(path: weights)) else {
                    throw RuntimeError("\(weights): no SimPool head (gp.pool.*, global_pool.pool.* or simpool.*) in this file")
                }
                context.simpoolWeights = head.weights
                context.checkpointGamma = head.gamma
            }
        } catch let error as CheckpointError {
            StandardError.write(error.description)
            throw ExitCode(ExitStatus.inputFailed)
        } catch let error as RuntimeError {
            StandardError.write(error.description)
            throw ExitCode(ExitStatus.inputFailed)
        }

        if context.simpoolWeights == nil && specifications.contains(where: { $0.name == "simpool" }) {
            StandardError.write("note: no --weights given; simpool runs in its non-parametric form (simpool-np)")
        }
        var failed = false
        for specification in specifications {
            do {
                let poolingMethod = try MethodCatalog.make(specification, context: context)
                let result = try poolingMethod.pool(input)
                try report(poolingMethod, result, input)
            } catch let error as PoolingError {
                StandardError.write("\(features): \(error.description)")
                failed = true
            } catch let error as CheckpointError {
                StandardError.write(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.inputFailed) }
    }

    /// The features as `[N, d]` with their grid, whatever layout the file uses.
    private func loadFeatures() throws -> PoolingInput {
        let tensor = try NPYFile.read(path: features)
        switch (tensor.rank, channelsFirst) {
        case (2, false):
            return PoolingInput(features: tensor)
        case (3, false):
            let (h, w, d) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
            return PoolingInput(features: tensor.reshaped([h * w, d]), gridHeight: h, gridWidth: w)
        case (3, true):
            let (d, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
            return PoolingInput(features: tensor.reshaped([d, h * w]).transposed(), gridHeight: h, gridWidth: w,
                                isTransformer: false)
        default:
            throw CheckpointError(path: features, problem: "features of shape \(tensor.shape): expected [N, d], [h, w, d] or [d, h, w] with --channels-first")
        }
    }

    private func report(_ method: any PoolingMethod, _ result: PoolingResult, _ input: PoolingInput) throws {
        let grid = input.gridHeight.map { [$0, input.gridWidth!] }
        if let out {
            try save(result.map, shape: grid ?? [result.map.count], to: out)
        }
        if let pooled {
            try save(result.pooled, shape: [result.pooled.count], to: pooled)
        }
        let peak = result.map.indices.max { result.map[$0] < result.map[$1] } ?? 0
        if json {
            var object: [String: Any] = ["method": method.specification, "tokens": input.tokenCount,
                                         "channels": input.channels, "map": result.map, "pooled": result.pooled]
            if let grid { object["grid"] = grid }
            if let signed = result.signedWeights { object["signed_weights"] = signed }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let location = grid.map { "row \(peak / $0[1] + 1), column \(peak % $0[1] + 1)" } ?? "token \(peak + 1)"
        let norm = result.pooled.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        print("\(method.specification): \(input.tokenCount) tokens × \(input.channels) channels"
              + (grid.map { " on a \($0[0])×\($0[1]) grid" } ?? ""))
        print("  map: peak \(String(format: "%.4f", result.map[peak])) at \(location); uniform would be \(String(format: "%.4f", 1 / Double(input.tokenCount)))")
        print("  pooled: ‖u‖ = \(String(format: "%.4f", norm)), first values \(result.pooled.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: " "))")
    }

    private func save(_ values: [Float], shape: [Int], to path: String) throws {
        if try AtomicFile.write(NPYFile.encode(values, shape: shape), to: path, overwrite: force) == .skippedExisting {
            throw CheckpointError(path: path, problem: "exists; not overwritten (use --force)")
        }
    }
}
