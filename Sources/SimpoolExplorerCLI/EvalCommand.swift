import ArgumentParser
import Explorer
import Foundation
import Imaging
import ModelRuntime
import Pooling

/// `simpool-explorer eval IMAGES --masks DIR`: attention-map quality against object masks.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Mean Jaccard and CorLoc of thresholded maps against object masks (matched by file stem).")

    @Argument(help: "Images, folders or glob patterns.")
    var paths: [String]

    @Option(help: "Folder of masks: <stem>.<ext> or <stem>_mask.<ext>, non-zero pixels mark the object.")
    var masks: String

    @OptionGroup var modelOptions: ModelOptions
    var model: String { modelOptions.model }

    @Option(help: "Methods with parameters, comma-separated, or all.")
    var method = "simpool,cls,gap"

    @Option(help: "Layer: a 1-based index or last.")
    var layer = "last"

    @Option(help: "Head for cls: mean, max, min, a 1-based index, or best: also score each image's best head, as DINO's evaluation does, beside the mean.")
    var head = "mean"

    @Option(help: "Attention mass kept when thresholding (DINO uses 0.6).")
    var mass: Float = 0.6

    @Option(help: "Shorter image side fed to the model.")
    var resolution = 224

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard mass > 0 && mass <= 1 else { throw ValidationError("--mass must be in (0, 1]") }
        if layer != "last" && (Int(layer) ?? 0) < 1 { throw ValidationError("--layer must be a number or last") }
        if head != "best" && HeadSelection(parsing: head) == nil { throw ValidationError("--head must be mean, max, min, best or a number") }
        do { _ = try MethodCatalog.parse(method) } catch let error as PoolingError { throw ValidationError(error.description) }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: masks, isDirectory: &isDirectory), isDirectory.boolValue else {
            StandardError.write("\(masks): no such folder of masks")
            throw ExitCode(ExitStatus.inputFailed)
        }
        let expansion = ImageList.expand(paths)
        var failed = !expansion.problems.isEmpty
        for problem in expansion.problems { StandardError.write(problem) }
        let loaded = try modelOptions.load(resolution: resolution)
        let summary = loaded.backbone.summary
        let context = loaded.poolingContext
        let layerIndex = layer == "last" ? summary.layerCount - 1 : min(Int(layer)! - 1, summary.layerCount - 1)
        // `all` is every method that applies: the attention-pool head only where there is one.
        let specifications = try MethodCatalog.parse(method).filter {
            $0.name != "attnpool" || context.attentionPoolWeights != nil || method.trimmingCharacters(in: .whitespaces) != "all"
        }
        let loader = ImageLoader(model: loaded, labels: nil)
        let maskFiles = (try? FileManager.default.contentsOfDirectory(atPath: masks)) ?? []

        var totals: [String: (jaccard: Double, hits: Int, count: Int)] = [:]
        var order: [String] = []
        var baseline = (jaccard: 0.0, hits: 0, count: 0)
        for image in expansion.images {
            let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
            guard let maskName = maskFiles.sorted().first(where: {
                let maskStem = ($0 as NSString).deletingPathExtension
                return (maskStem == stem || maskStem == stem + "_mask") && ImageList.isImageName($0)
            }) else {
                StandardError.write("\(image): no mask named \(stem).* or \(stem)_mask.* in \(masks)")
                failed = true
                continue
            }
            do {
                let mask = try ImageDecoder.decode(path: (masks as NSString).appendingPathComponent(maskName)).gray()
                let truth = mask.pixels.map { $0 != 0 }
                let result = try loader.load(path: image, resolution: resolution)
                if let warning = result.decodeWarning { StandardError.write("\(image): \(warning)") }
                if let warning = mask.warning { StandardError.write("\(maskName): \(warning)") }
                let all = [Bool](repeating: true, count: truth.count)
                baseline.jaccard += MaskMetrics.jaccard(all, truth)
                baseline.hits += MaskMetrics.corLocHit(prediction: all, truth: truth, width: mask.width, height: mask.height) ? 1 : 0
                baseline.count += 1
                let selected = HeadSelection(parsing: head) ?? .mean
                for specification in specifications {
                    // With best, every head of a per-head method is scored and the best one kept.
                    let candidates: [HeadSelection] = head == "best" && specification.name == "cls"
                        ? [.mean] + (0..<(summary.heads ?? 0)).map(HeadSelection.index) : [specification.name == "cls" ? selected : .mean]
                    var scores: [(jaccard: Double, hit: Bool, name: String)] = []
                    for candidate in candidates {
                        let computed = MapComputation.compute(trace: result.trace, specification: specification, context: context,
                                                              layer: layerIndex, head: candidate, isTransformer: summary.family == .vit)
                        guard case .success(let map) = computed else {
                            if case .failure(let error) = computed { StandardError.write("\(image): \(error.description)") }
                            failed = true
                            break
                        }
                        let prediction = MaskMetrics.prediction(map.result.map, gridHeight: map.gridHeight, gridWidth: map.gridWidth,
                                                                width: mask.width, height: mask.height, mass: mass)
                        let name = map.methodText + (candidate == .mean || specification.name != "cls" ? "" : " head \(candidate)")
                        scores.append((MaskMetrics.jaccard(prediction, truth),
                                       MaskMetrics.corLocHit(prediction: prediction, truth: truth, width: mask.width, height: mask.height),
                                       name))
                    }
                    guard let first = scores.first else { continue }
                    var rows = [first]
                    if scores.count > 1, let best = scores.max(by: { $0.jaccard < $1.jaccard }) {
                        rows.append((best.jaccard, best.hit, scores[0].name + " (best head)"))
                    }
                    for row in rows {
                        if totals[row.name] == nil { order.append(row.name) }
                        var total = totals[row.name] ?? (0, 0, 0)
                        total.jaccard += row.jaccard
                        total.hits += row.hit ? 1 : 0
                        total.count += 1
                        totals[row.name] = total
                    }
                }
            } catch {
                StandardError.write(String(describing: error))
                failed = true
            }
        }

        let rows = order.map { (name: $0, total: totals[$0]!) } + [(name: "all-ones mask (baseline)", total: baseline)]
        if json {
            let object: [String: Any] = [
                "model": model, "layer": layerIndex + 1, "mass": Double(mass), "images": baseline.count,
                "methods": rows.map { ["method": $0.name, "jaccard": $0.total.count == 0 ? 0 : $0.total.jaccard / Double($0.total.count),
                                       "corloc": $0.total.count == 0 ? 0 : Double($0.total.hits) / Double($0.total.count),
                                       "images": $0.total.count] },
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(baseline.count) images, \(model), layer \(layerIndex + 1), maps kept at mass \(mass)")
            print("method".padding(toLength: 28, withPad: " ", startingAt: 0) + "  Jaccard  CorLoc")
            for row in rows {
                let n = max(1, row.total.count)
                print(row.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + String(format: "  %7.3f  %6.3f", row.total.jaccard / Double(n), Double(row.total.hits) / Double(n)))
            }
        }
        if failed { throw ExitCode(ExitStatus.inputFailed) }
    }
}
