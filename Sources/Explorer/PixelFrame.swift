import TerminalCanvas

/// The pictures the explorer draws as real pixels over a frame: each panel's box and its
/// pixels, from the same state the frame was composed from. None for grids, the help, a
/// message, an image still waiting for its forward pass or a map that failed; the cells
/// of the frame then stand alone.
public enum PixelFrame {
    public struct Picture: Sendable, Equatable {
        public let box: Box
        public let image: RGBImage
    }

    public static func pictures(_ state: ExplorerState, still: PixelStill) -> [Picture] {
        guard state.layout == .single, !state.showHelp, let result = state.current?.result,
              case .success(let map)? = MapComputation.compute(state) else { return [] }
        let boxes = ScreenLayout.pictures(state, imageWidth: result.image.width, imageHeight: result.image.height)
        guard let first = boxes.first, first.width > 0, first.height > 0 else { return [] }
        let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
        let images = still.panels(view: state.view, image: result.image, map: map, values: values, columns: first.width,
                                  rows: first.height, colormap: state.colormap, opacity: state.opacity,
                                  query: state.query.map { ($0.row, $0.column) })
        return zip(boxes, images).map { Picture(box: $0, image: $1) }
    }
}
