//! `gmm plot`: a picture of a model (and data) on two dimensions.

use gmm_core::{Error, ErrorKind, Result};
use gmm_plot::{Colouring, Figure, Format, MAX_CONTOUR_LEVELS, MixtureView, mixture_panel};

use crate::args::PlotArgs;
use crate::output::Paths;

/// Runs `gmm plot`. Every argument is checked before the figure is drawn, the figure is drawn
/// in memory and the file written atomically, so a failed run leaves no file behind.
pub fn run(args: PlotArgs) -> Result<()> {
    let format = Format::from_path(&args.output)?;
    let dims: [usize; 2] = args.dims.as_slice().try_into().map_err(|_| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("--dims takes two dimensions such as 0,1, got {} values", args.dims.len()),
        )
    })?;
    Paths::new()
        .input("MODEL", &args.model)
        .maybe_input("DATA", args.data.as_deref())
        .output("-o", Some(&args.output))
        .check()?;
    let model = gmm_io::read_model::<f64>(&args.model)?;
    let (data, columns) = match &args.data {
        Some(path) => {
            let (data, names) = gmm_io::read_matrix_with_names(path)?;
            (Some(data.into_f64()), names)
        }
        None => (None, None),
    };
    if (args.labels || args.posterior) && data.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "--labels and --posterior colour the data: give a DATA file",
        ));
    }
    if args.contours > MAX_CONTOUR_LEVELS {
        eprintln!(
            "gmm: note: --contours {} is more than the {MAX_CONTOUR_LEVELS} levels a plot draws \
             (more merge into a solid fill): drawing {MAX_CONTOUR_LEVELS}",
            args.contours
        );
    }
    let mut view = MixtureView::new(dims).contours(args.contours).colouring(if args.labels {
        Colouring::Predicted
    } else if args.posterior {
        Colouring::Posterior
    } else {
        Colouring::Single
    });
    view = if args.no_ellipses { view.no_ellipses() } else { view.level(args.level) };
    match args.names.as_deref() {
        // The data's header names the axes, when it has one.
        None => {
            if let Some([x, y]) = columns.as_ref().map(|c| dims.map(|j| c.get(j)))
                && let (Some(x), Some(y)) = (x, y)
            {
                view = view.names(x, y);
            }
        }
        Some([x, y]) => view = view.names(x, y),
        Some(other) => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("--names takes two names such as duration,waiting, got {}", other.len()),
            ));
        }
    }
    if let Some(title) = &args.title {
        view = view.title(title);
    }
    let context = |e: Error| match &args.data {
        Some(path) if matches!(e.kind(), ErrorKind::DimensionMismatch { .. }) => {
            e.context(path.display())
        }
        _ => e,
    };
    let panel =
        mixture_panel(&model, data.as_ref().map(|m| m.samples()), &view).map_err(context)?;
    let bytes = Figure::new(args.width, args.height).panel(panel).render(format)?;
    gmm_io::write_atomic(&args.output, &bytes)
}
