"""Seeded demo-data generator: an online shop's event log with planted, known structure.

The generator writes two files into a folder:

* ``events.csv.gz`` — columns ``user_id,item_id,event_type,timestamp,title,category,price,quantity,order_id``.
  The names are deliberately not all canonical (``event_type``, ``timestamp``, ``title``) so that the ingest's
  column auto-mapping is exercised. ``quantity`` and ``order_id`` are filled on purchase rows only.
* ``ground_truth.json`` — what was planted: each item's theme, each user's true themes (bots: ``[]``;
  drifters: ``[before, after]``), the drifters with their change date, the bots and the cold items.

Planted structure: users follow one to three interest themes (a main one dominating) through sessions
shaped by a view → click → cart → purchase funnel; ~5% drifters switch their theme completely near the middle
of the period; ~1% bots flood views in short bursts and never buy; ~5% cold items appear only in the last
14 days.
The same seed gives byte-identical files (gzip is written with ``mtime=0`` and no file name).

Example:
    >>> from uig_core.demo import DEMO_DIR, ensure_demo_data
    >>> folder = ensure_demo_data(DEMO_DIR)  # generates only when the files are absent
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import ConfigError

__all__ = [
    "DEMO_DIR",
    "END_DATE",
    "EVENTS_FILE",
    "GROUND_TRUTH_FILE",
    "CSV_COLUMNS",
    "THEMES",
    "Theme",
    "Product",
    "generate",
    "ensure_demo_data",
    "load_ground_truth",
]

DEMO_DIR: Path = Path(__file__).resolve().parent.parent / "demo_data"
"""The repository's committed demo folder."""
END_DATE: date = date(2026, 10, 31)
"""Last day of the generated log (fixed so that the output never depends on today's date)."""
EVENTS_FILE = "events.csv.gz"
GROUND_TRUTH_FILE = "ground_truth.json"
CSV_COLUMNS = (
    "user_id",
    "item_id",
    "event_type",
    "timestamp",
    "title",
    "category",
    "price",
    "quantity",
    "order_id",
)

Progress = Callable[[float, str], None]

_EVENTS = ("view", "click", "cart", "purchase")
_VIEW, _CLICK, _CART, _PURCHASE = range(4)
_BOT_SHARE, _DRIFTER_SHARE, _COLD_SHARE = 0.01, 0.05, 0.05
_COLD_DAYS = 14
_P_CLICK, _P_CART, _P_PURCHASE = 0.35, 0.30, 0.50  # per view, per click, per cart
_P_OFF_THEME = 0.02  # chance that one view of a session wanders to another theme
_MAX_VIEWS = 12  # per session; with the gaps below a session lasts under 2 hours
# Relative traffic per session start hour (0-21, so that every session ends before midnight): quiet nights,
# a lunch bump and an evening peak.
_HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4, 5, 6, 6, 5, 5, 5, 6, 7, 9, 10, 9], dtype=float
)


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    n_users: int = 3000,
    n_items: int = 1500,
    days: int = 120,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate the demo event log and its ground truth into ``out_dir``.

    Args:
        out_dir: Folder to write ``events.csv.gz`` and ``ground_truth.json`` into (created if missing).
            Both files are written to a temporary file first and renamed into place.
        seed: Seed of the ``numpy.random.Generator``; the same seed and sizes give byte-identical files.
        n_users: Number of users, bots and drifters included (at least 20).
        n_items: Number of items, spread evenly over the themes (at least 5 per theme).
        days: Length of the period in days, ending on :data:`END_DATE` (at least 30).
        progress: Optional callback ``(fraction in [0, 1], message)``.

    Returns:
        A summary: ``rows``, ``users``, ``items``, ``themes``, ``bots``, ``drifters``, ``cold_items``,
        ``events`` (rows per event type), ``start`` and ``end`` (ISO dates), ``seed`` and the two file paths.

    Raises:
        ConfigError: If a size is out of range.
    """
    _check_sizes(n_users=n_users, n_items=n_items, days=days)
    report = progress or (lambda _f, _m: None)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    report(0.0, "Creating items")
    items = _make_items(rng, n_items=n_items, days=days)
    report(0.1, "Creating users")
    users = _make_users(rng, n_users=n_users, days=days)
    report(0.15, "Simulating sessions")
    log = _EventLog()
    _simulate(
        rng, items, users, log, days=days, report=lambda f: report(0.15 + 0.55 * f, "Simulating sessions")
    )
    _backfill(rng, items, users, log, days=days)
    report(0.7, "Writing events")
    table = log.sorted()
    start = END_DATE - timedelta(days=days - 1)
    _atomic_write(out_dir / EVENTS_FILE, lambda f: _write_csv(f, table, items, users, start), binary=True)
    report(0.95, "Writing ground truth")
    truth = _ground_truth(items, users, start)
    _atomic_write(out_dir / GROUND_TRUTH_FILE, lambda f: f.write(json.dumps(truth, indent=1) + "\n"))
    report(1.0, "Done")
    counts = np.bincount(table["event"], minlength=4)
    return {
        "rows": int(len(table["event"])),
        "users": n_users,
        "items": n_items,
        "themes": len(THEMES),
        "bots": len(truth["bots"]),
        "drifters": len(truth["drifters"]),
        "cold_items": len(truth["cold_items"]),
        "events": {name: int(c) for name, c in zip(_EVENTS, counts, strict=True)},
        "start": start.isoformat(),
        "end": END_DATE.isoformat(),
        "seed": seed,
        "events_path": str(out_dir / EVENTS_FILE),
        "ground_truth_path": str(out_dir / GROUND_TRUTH_FILE),
    }


def ensure_demo_data(out_dir: Path = DEMO_DIR, regenerate: bool = False) -> Path:
    """Return the demo folder, generating its files (default seed and sizes) only when absent.

    Args:
        out_dir: The demo folder; by default the repository's committed ``demo_data/``.
        regenerate: Generate even when both files exist.

    Returns:
        ``out_dir``, holding ``events.csv.gz`` and ``ground_truth.json``.
    """
    out_dir = Path(out_dir)
    if regenerate or not (out_dir / EVENTS_FILE).is_file() or not (out_dir / GROUND_TRUTH_FILE).is_file():
        generate(out_dir)
    return out_dir


def load_ground_truth(out_dir: Path = DEMO_DIR) -> dict[str, Any]:
    """Read ``ground_truth.json`` from a demo folder.

    Args:
        out_dir: The demo folder.

    Returns:
        The parsed ground truth (layout described in the module docstring).
    """
    return json.loads((Path(out_dir) / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))


# ---- vocabulary ----
@dataclass(frozen=True)
class Product:
    """One product noun of a theme, with the words that may qualify it and its price range."""

    noun: str
    subcategory: str
    price: tuple[float, float]
    adjectives: tuple[str, ...]
    variants: tuple[str, ...]
    consumable: bool = False


@dataclass(frozen=True)
class Theme:
    """An interest theme: a key, the shop department its items sit in, brand names and product nouns."""

    key: str
    department: str
    brands: tuple[str, ...]
    products: tuple[Product, ...]


# Theme lines: ``key | department | brands``; product lines (indented 2):
# ``noun | subcategory | low-high[*] | adjectives | variants`` (``*`` marks a consumable, bought several at
# a time); deeper indents continue a line. Every noun carries its theme's anchor words ("Trail Running",
# "Coffee", "Dog", "Kids", ...) so that the themes stay apart in a embedding space; brands are invented.
_VOCABULARY = """
trail_running | Sports & Outdoors | Summitra, RidgeRun, Altigo, Kestrel Trail, Vantrek
  Trail Running Shoes | Running Shoes | 79-179 | Waterproof, Lightweight, Cushioned, Grippy, Rock-Plate,
      Breathable | Men's, Women's, Wide Fit, Size 9, Size 10, Size 11
  Running Hydration Vest | Running Hydration | 49-149 | Lightweight, Bounce-Free, Ultra, Breathable, Race |
      5L, 8L, 12L, with Soft Flasks
  Trail Running Socks | Running Apparel | 12-29* | Cushioned, Blister-Free, Merino, Compression, Quick-Dry |
      3-Pack, Crew, Ankle, Men's, Women's
  GPS Running Watch | Running Electronics | 149-449 | Ultra-Endurance, Solar, Lightweight, Trail | with
      Heart Rate Monitor, with Route Maps, Black, Slate
  Trail Running Gaiters | Running Accessories | 19-39 | Lightweight, Stretch, Debris-Proof | One Size,
      Small, Large
  Running Shorts with Liner | Running Apparel | 29-65 | Lightweight, Quick-Dry, Split-Leg, Trail | Men's,
      Women's, 5 Inch, 7 Inch
  Trail Running Jacket | Running Apparel | 89-229 | Waterproof, Ultralight, Packable, Windproof | Men's,
      Women's
  Energy Gels for Runners | Running Nutrition | 19-35* | Caffeinated, Isotonic, Natural, Salted Caramel |
      Pack of 12, Pack of 24, Variety Box
  Folding Trail Running Poles | Running Accessories | 59-149 | Carbon, Ultralight, Adjustable | Pair, 115
      cm, 125 cm
  Marathon Running Belt | Running Accessories | 15-35 | Bounce-Free, Slim, Reflective | with Gel Loops, with
      Bib Toggles
  Running Headlamp for Night Trail Runs | Running Accessories | 29-89 | Rechargeable, Bounce-Free,
      Lightweight | 400 Lumens, 600 Lumens
baking | Home & Kitchen | BakeHaven, Crumb & Co, Ovenly, Flourish, Whiskworth
  Silicone Baking Mat Set | Bakeware | 12-29 | Non-Stick, Reusable, Heat-Resistant, Professional | 2-Pack,
      3-Pack, Half Sheet, Quarter Sheet
  Loaf Pan for Bread Baking | Bakeware | 12-32 | Non-Stick, Heavy-Gauge, Carbon Steel, Glazed | 9x5 Inch,
      Set of 2, Pullman with Lid
  Springform Cake Pan | Bakeware | 14-35 | Non-Stick, Leakproof, Heavy-Duty | 9 Inch, 10 Inch, Set of 3
  Stand Mixer for Baking | Baking Appliances | 149-449 | Tilt-Head, Professional, Bowl-Lift, Compact | 5
      Quart, 6 Quart, Red, Silver, Cream
  Sourdough Proofing Basket | Bread Baking | 15-39 | Rattan, Banneton, Handmade | Round 9 Inch, Oval 10
      Inch, with Bread Lame
  Cake Piping Bag and Nozzle Set | Cake Decorating | 9-29 | Reusable, Stainless, Professional | 24-Piece,
      48-Piece, with Couplers
  Cookie Cutter Set | Baking Tools | 8-25 | Stainless Steel, Holiday, Fluted, Nesting | 12-Piece, 24-Piece,
      Christmas
  French Rolling Pin for Pastry Dough | Baking Tools | 12-35 | Tapered, Marble, Maple Wood, Non-Stick | 18
      Inch, with Guide Rings
  Cupcake Baking Liners | Baking Supplies | 6-15* | Greaseproof, Foil, Pastel, Tulip | Pack of 100, Pack of
      200, Assorted Colors
  Cake Cooling Rack | Bakeware | 9-24 | Stackable, Oven-Safe, Stainless Steel | Set of 2, Set of 3, Half
      Sheet
  Cake Decorating Turntable | Cake Decorating | 19-45 | Rotating, Cast Iron, Non-Slip | 12 Inch, with Icing
      Spatulas
  Bread Flour for Home Baking | Baking Supplies | 5-14* | Unbleached, Organic, High-Protein, Stoneground | 5
      lb Bag, 10 lb Bag, 2-Pack
home_office | Office Products | Deskwell, WorkNest, Officio, Ergoline, Paperlane
  Ergonomic Office Chair | Office Furniture | 149-499 | Mesh, High-Back, Adjustable, Executive | with Lumbar
      Support, with Headrest, Black, Grey
  Height-Adjustable Standing Desk | Office Furniture | 249-699 | Electric, Dual-Motor, Compact, Corner | 48
      x 24 Inch, 55 x 28 Inch, Walnut Top, White Top
  Desk Organizer for Office Supplies | Desk Accessories | 12-39 | Mesh, Bamboo, Multi-Compartment | with
      Drawer, 5 Sections, Black
  Paper Shredder for Home Office | Office Machines | 49-199 | Cross-Cut, Micro-Cut, Quiet | 8-Sheet,
      12-Sheet, with Basket
  Printer Paper for Office | Office Paper | 8-45* | Multipurpose, Bright White, Recycled | Letter Size 500
      Sheets, Case of 10 Reams, A4 Ream
  Sticky Notes for Office | Office Supplies | 5-15* | Super Sticky, Lined, Pastel | 12 Pads, 24 Pads, 3 x 3
      Inch
  Under-Desk Cable Management Tray | Desk Accessories | 15-39 | Steel, No-Drill, Clamp-On | Set of 2, 24
      Inch
  Office Desk Lamp | Office Lighting | 25-79 | LED, Dimmable, Architect, Eye-Caring | with USB Charging
      Port, Black, Silver
  Laptop Stand for Desk | Desk Accessories | 19-59 | Aluminum, Adjustable, Foldable, Ventilated | Silver,
      Space Grey
  Ergonomic Footrest Under Desk | Office Furniture | 19-49 | Adjustable, Memory Foam, Rocking | Black, Grey
  Filing Cabinet for Office Documents | Office Furniture | 89-249 | Lockable, Mobile, Vertical | 2-Drawer,
      3-Drawer, Letter Size
  Magnetic Office Whiteboard | Office Supplies | 25-89 | Dry-Erase, Frameless, Glass | 36 x 24 Inch, 48 x 36
      Inch, with Markers
gaming | Video Games | PixelForge, Nexon Arc, Ragequit Labs, HyperByte, Vortek
  Gaming Mouse | PC Gaming Accessories | 29-119 | Wireless, RGB, Ultralight, Esports, 16K DPI | Black,
      White, with Side Buttons
  Mechanical Gaming Keyboard | PC Gaming Accessories | 59-199 | RGB, Hot-Swappable, Tenkeyless, Low-Profile
      | Red Switches, Brown Switches, Blue Switches
  Gaming Headset | Gaming Audio | 39-199 | Wireless, Surround Sound, Noise-Cancelling, Esports | for PS5,
      for Xbox, for PC, with Detachable Mic
  Wireless Game Controller | Console Accessories | 39-89 | Pro, Low-Latency, Rechargeable, Hall-Effect | for
      PS5, for Xbox Series X, for Nintendo Switch, for PC
  Game Controller Charging Dock | Console Accessories | 19-39 | Dual, Fast-Charging, LED | for PS5, for Xbox
  Extended RGB Gaming Mouse Pad | PC Gaming Accessories | 15-45 | Stitched-Edge, Non-Slip, XXL | 900 x 400
      mm, Black
  Game Capture Card for Streaming | Game Streaming | 99-229 | 4K60, HDR, USB 3.0 | for PS5 and Xbox, for PC
  Gaming Monitor | Gaming Displays | 179-599 | 144Hz, 240Hz, Curved, QHD | 27 Inch, 32 Inch, 1ms Response
      Time
  Video Game Gift Card | Digital Games | 10-100* | Digital, Instant | for PlayStation Store, for Xbox Store,
      for Steam, for Nintendo eShop
  Racing Wheel for Sim Racing Games | Console Accessories | 199-499 | Force-Feedback, Direct-Drive | with
      Pedals, for PS5, for Xbox
  VR Gaming Headset | Gaming VR | 299-599 | Standalone, Wireless | 128GB, 256GB, Elite Strap
skincare | Beauty & Personal Care | Lumisera, Dermalux, Glowhaus, Aveline, Purenne
  Vitamin C Face Serum | Skin Care | 15-49* | Brightening, Anti-Aging, Hydrating, Fragrance-Free | 1 fl oz,
      2 fl oz, with Hyaluronic Acid
  Hyaluronic Acid Face Moisturizer | Skin Care | 14-45* | Oil-Free, Hydrating, Lightweight, Fragrance-Free |
      for Dry Skin, for Sensitive Skin, 1.7 oz
  Gentle Foaming Facial Cleanser | Skin Care | 9-25* | pH-Balanced, Hydrating, Fragrance-Free | for Oily
      Skin, for Sensitive Skin, 8 fl oz
  Retinol Night Cream | Skin Care | 19-59* | Anti-Wrinkle, Firming, Gentle | 1.7 oz, with Peptides
  Mineral Sunscreen for Face SPF 50 | Sun Care | 12-35* | Tinted, Oil-Free, Reef-Safe, Non-Greasy | 1.7 fl
      oz, for Sensitive Skin
  Exfoliating Face Toner | Skin Care | 12-32* | AHA BHA, Pore-Minimizing, Alcohol-Free | 6.7 fl oz, with
      Glycolic Acid
  Hydrating Sheet Face Masks | Skin Care | 10-29* | Soothing, Brightening, Collagen | Pack of 10, Pack of
      20, Variety Pack
  Under-Eye Cream for Dark Circles | Skin Care | 15-49* | Caffeine, Depuffing, Firming | 0.5 oz, with
      Retinol
  Niacinamide Skin Serum | Skin Care | 9-29* | Pore-Refining, Blemish, Oil-Control | 1 fl oz, 10%
      Niacinamide
  Micellar Cleansing Water for Makeup Removal | Skin Care | 8-19* | Gentle, No-Rinse, Fragrance-Free | 13.5
      fl oz, 2-Pack
  Facial Skin Care Gift Set | Skin Care Sets | 29-89 | Anti-Aging, Glow, Travel-Size | 5-Piece, Cleanser
      Serum Moisturizer
gardening | Garden & Outdoor | GreenThumb, Rootwell, Bloomfield, Terrava, Sproutly
  Garden Pruning Shears | Gardening Tools | 15-45 | Bypass, Ratchet, Heavy-Duty, Titanium-Coated | for Roses
      and Shrubs, Pair
  Raised Garden Bed for Vegetables | Garden Beds | 49-199 | Galvanized Steel, Cedar Wood, Elevated | 4 x 2
      Feet, 8 x 4 Feet, with Liner
  Expandable Garden Hose | Watering | 25-69 | Kink-Free, Lightweight, Leakproof | 50 Feet, 100 Feet, with
      Spray Nozzle
  Heirloom Tomato Seeds for Planting | Seeds & Bulbs | 4-14* | Organic, Non-GMO, Heirloom | Variety Pack,
      200 Seeds, Cherry Tomato
  Organic Potting Soil Mix for Plants | Soil & Fertilizer | 8-29* | Organic, Peat-Free, Premium | 8 Quart,
      16 Quart, for Indoor Plants
  Garden Kneeler and Seat | Gardening Tools | 29-59 | Foldable, Padded, Heavy-Duty | with Tool Pouches
  Garden Compost Bin | Composting | 39-129 | Tumbling, Dual-Chamber, Outdoor | 37 Gallon, 80 Gallon
  Plant Watering Can | Watering | 12-35 | Galvanized, Long-Spout, Indoor | 1 Gallon, 2 Gallon
  Gardening Hand Tool Set with Trowel | Gardening Tools | 19-49 | Stainless Steel, Ergonomic, Rust-Proof |
      5-Piece, with Tote Bag
  Plant Food Fertilizer for Vegetable Gardens | Soil & Fertilizer | 9-29* | Organic, Slow-Release, All-
      Purpose | 3 lb, 5 lb, Liquid 32 oz
  Terracotta Plant Pots with Drainage | Planters | 15-45 | Handmade, Glazed, Classic | Set of 3, 6 Inch, 8
      Inch
  Flower Bulbs for Spring Garden | Seeds & Bulbs | 9-29* | Tulip, Daffodil, Mixed | Pack of 25, Pack of 50
coffee | Home & Kitchen | Brewmont, Roastery Row, Crema Lab, Bean & Barrel, Kaffio
  Burr Coffee Grinder | Coffee Grinders | 39-249 | Conical, Electric, Manual, Stepless | for Espresso, for
      Pour-Over, 40 Settings
  Pour-Over Coffee Dripper | Coffee Makers | 12-39 | Ceramic, Glass, Stainless | Size 02, with Filters
  Espresso Machine | Espresso Machines | 199-799 | Semi-Automatic, Dual-Boiler, Compact | with Milk Steam
      Wand, with Built-In Grinder, Stainless Steel
  Whole Bean Coffee | Coffee Beans | 12-29* | Single-Origin, Dark Roast, Medium Roast, Light Roast, Organic
      | Ethiopia Yirgacheffe, Colombia Huila, Espresso Blend, 2 lb Bag, 12 oz Bag
  Gooseneck Coffee Kettle | Coffee Accessories | 29-99 | Electric, Temperature-Control, Stovetop | 1 Liter,
      Matte Black
  French Press Coffee Maker | Coffee Makers | 19-59 | Double-Wall, Stainless Steel, Glass | 34 oz, 12 oz
  Paper Coffee Filters | Coffee Accessories | 5-12* | Unbleached, Cone, Oxygen-Bleached | Size 4, Pack of
      200, for Pour-Over
  Milk Frother for Lattes and Cappuccinos | Coffee Accessories | 15-99 | Handheld, Electric, Induction |
      Black, Stainless
  Cold Brew Coffee Maker | Coffee Makers | 19-49 | Airtight, Glass, Large-Capacity | 1 Quart, 2 Quart
  Coffee Scale with Timer | Coffee Accessories | 19-69 | Digital, Espresso, Waterproof | 0.1 g Precision,
      with Heat Pad
  Espresso Tamper | Espresso Accessories | 15-49 | Calibrated, Spring-Loaded, Stainless | 51 mm, 54 mm, 58
      mm
  Insulated Travel Coffee Mug | Coffee Mugs | 15-35 | Leakproof, Stainless Steel, Vacuum | 12 oz, 16 oz,
      Matte Black
dog_care | Pet Supplies | Pawsome, Barkley & Bone, HappyTail, Woofwell, Furcanny
  Durable Dog Chew Toy | Dog Toys | 8-25 | Indestructible, Squeaky, Rubber, Dental | for Large Dogs, for
      Puppies, for Aggressive Chewers
  Grain-Free Dry Dog Food | Dog Food | 25-79* | Salmon, Chicken, Lamb, High-Protein | 15 lb Bag, 30 lb Bag,
      Puppy Formula, Senior Formula
  No-Pull Dog Harness | Dog Walking | 19-45 | Reflective, Padded, Adjustable | Small, Medium, Large
  Retractable Dog Leash | Dog Walking | 15-39 | Tangle-Free, Heavy-Duty, Reflective | 16 Feet, 26 Feet, for
      Small Dogs
  Orthopedic Dog Bed | Dog Beds | 39-129 | Memory Foam, Washable, Bolster | Medium, Large, Extra Large
  Oatmeal Dog Shampoo | Dog Grooming | 9-24* | Hypoallergenic, Itch-Relief, Puppy-Safe | 16 oz, 32 oz
  Dog Nail Clippers | Dog Grooming | 9-25 | Safety-Guard, Grinder, Professional | for Large Dogs, for Small
      Dogs
  Training Treats for Dogs | Dog Treats | 8-25* | Soft, Chicken, Peanut Butter, Grain-Free | Pack of 200, 1
      lb Bag
  Dog Poop Bags with Dispenser | Dog Walking | 8-19* | Leak-Proof, Unscented, Compostable | 300 Count, 540
      Count
  Folding Dog Crate | Dog Crates | 49-149 | Double-Door, Metal, Soft-Sided | 36 Inch, 42 Inch
  Dog Grooming Brush for Shedding | Dog Grooming | 12-35 | Deshedding, Slicker, Self-Cleaning | for Long
      Hair, for Short Hair
photography | Camera & Photo | Lensora, Aperta, Photonix, Shutterbay, Optiq
  Camera Tripod | Tripods | 39-249 | Carbon Fiber, Travel, Aluminum, Heavy-Duty | with Ball Head, for DSLR
      and Mirrorless, 66 Inch
  Mirrorless Camera Body | Digital Cameras | 699-2499 | Full-Frame, APS-C, Weather-Sealed | 24MP, 33MP, 45MP
  Prime Camera Lens | Camera Lenses | 199-899 | Fast, Portrait, Wide-Angle, Macro | 50mm f/1.8, 35mm f/1.4,
      85mm f/1.8, for Sony E-Mount, for Canon RF
  Camera Backpack for Photographers | Camera Bags | 49-189 | Weatherproof, Modular, Side-Access | 20L, 30L,
      with Laptop Sleeve
  SD Memory Card for Cameras | Camera Memory | 15-89* | UHS-II, V90, High-Speed | 64GB, 128GB, 256GB
  Camera Lens Filter | Lens Filters | 19-99 | Circular Polarizer, ND, UV, Variable ND | 67mm, 77mm, 82mm
  Speedlight Camera Flash | Camera Lighting | 49-249 | Wireless, TTL, High-Speed Sync | for Canon, for
      Nikon, for Sony
  Camera Battery and Charger Kit | Camera Power | 19-69 | Rechargeable, Dual-Slot, USB-C | 2-Pack, for Sony,
      for Canon
  Camera Lens Cleaning Kit | Camera Accessories | 9-25 | Professional, Anti-Static | with Blower and Lens
      Pen, 7-Piece
  Photography Softbox Lighting Kit | Studio Lighting | 59-199 | Continuous, LED, Dimmable | 2-Light,
      3-Light, with Stands
  Camera Neck Strap | Camera Accessories | 12-39 | Padded, Quick-Release, Leather | for DSLR, for Mirrorless
  Photography Reflector Disc | Studio Lighting | 15-39 | 5-in-1, Collapsible | 32 Inch, 43 Inch
kids_toys | Toys & Games | Tinytown, Playbright, Wonderwhirl, Little Maker, Jumbo Joy
  Wooden Building Blocks for Toddlers | Toddler Toys | 19-49 | Colorful, Natural, Educational | 50 Pieces,
      100 Pieces, with Storage Bag
  Kids Art Easel | Kids Arts & Crafts | 39-99 | Double-Sided, Adjustable, Wooden | with Chalkboard, with
      Paper Roll
  Toddler Shape Sorter Toy | Toddler Toys | 12-29 | Montessori, Wooden, Colorful | for 1 Year Olds, for 2
      Year Olds
  Remote Control Car for Kids | Kids Vehicles | 25-79 | Off-Road, Stunt, Rechargeable | for Boys and Girls
      Ages 6+, Red, Blue
  Plush Teddy Bear Stuffed Animal | Stuffed Animals | 12-39 | Soft, Cuddly, Giant | 12 Inch, 24 Inch, Brown,
      Pink
  Magnetic Building Tiles for Kids | Kids Building Toys | 29-89 | Educational, STEM, Clear-Color | 60
      Pieces, 100 Pieces
  Jigsaw Puzzle for Kids | Kids Puzzles | 9-24 | Animal, Dinosaur, Floor | 48 Pieces, 100 Pieces, Ages 4-8
  Wooden Toy Train Set | Kids Vehicles | 29-99 | Deluxe, Battery-Operated, Classic | with Tracks and Bridge,
      80 Pieces
  Kids Science Experiment Kit | Kids STEM Toys | 19-49 | Educational, Crystal-Growing, Volcano | for Ages
      8-12, 30 Experiments
  Baby Stacking Rings Toy | Baby Toys | 9-24 | Rainbow, Soft, Rocking | for Infants 6 Months+
  Toddler Ride-On Toy | Kids Vehicles | 39-119 | Balance, Push, Wobble | for 1-3 Year Olds, Blue, Pink
  Dinosaur Toy Figures for Kids | Kids Action Figures | 12-35 | Realistic, Jumbo, Educational | 12-Pack,
      with Play Mat
yoga | Sports & Outdoors | Zenflow, Asana Path, Lotusline, Namaste Lab, Stillpoint
  Yoga Mat | Yoga Mats | 25-129 | Non-Slip, Extra-Thick, Eco-Friendly, Cork, TPE | 6 mm, 8 mm, with Carrying
      Strap, Purple, Sage Green
  Cork Yoga Blocks | Yoga Props | 12-35 | Sustainable, Non-Slip, Lightweight | Set of 2, 9 x 6 x 4 Inch
  Yoga Strap for Stretching | Yoga Props | 8-19 | Cotton, Adjustable, D-Ring | 8 Feet, 10 Feet
  Meditation Cushion Zafu | Meditation | 29-79 | Buckwheat, Round, Crescent | with Washable Cover, Indigo,
      Charcoal
  Yoga Wheel for Backbends | Yoga Props | 25-59 | Padded, Strong, Dharma | 12 Inch, Set of 3
  Yoga Bolster Pillow | Yoga Props | 35-79 | Rectangular, Cylindrical, Restorative | with Handles, Organic
      Cotton
  Non-Slip Hot Yoga Towel | Yoga Accessories | 15-39 | Microfiber, Sweat-Absorbent, Silicone-Grip | Mat-
      Size, Hand Towel Set
  High-Waisted Yoga Leggings | Yoga Apparel | 25-89 | Buttery-Soft, Squat-Proof, Seamless | Women's, with
      Pockets, 7/8 Length
  Yoga Mat Carry Bag | Yoga Accessories | 19-45 | Canvas, Full-Zip, Sling | with Pockets, Fits Extra-Wide
      Mats
  Pilates and Yoga Resistance Bands | Yoga Accessories | 12-35 | Fabric, Latex-Free, Loop | Set of 3, Set of
      5
  Yoga Mat Cleaner Spray | Yoga Accessories | 8-19* | Natural, Lavender, Eucalyptus | 8 fl oz, 16 fl oz
camping | Sports & Outdoors | Campfire Co, Basecamp North, Wildpine, Emberlake, Canyonhart
  Backpacking Camping Tent | Tents | 99-399 | Ultralight, Waterproof, Freestanding, 4-Season | 1-Person,
      2-Person, 4-Person, with Footprint
  Mummy Sleeping Bag for Camping | Sleeping Bags | 49-249 | Down, Synthetic, Compact, Cold-Weather | 20
      Degree, 0 Degree, Long, Regular
  Self-Inflating Camping Sleeping Pad | Sleeping Pads | 39-149 | Insulated, Ultralight, Foam | Regular,
      Wide, with Pillow
  Portable Camping Stove | Camp Kitchen | 29-129 | Backpacking, Two-Burner, Windproof | with Piezo Igniter,
      Propane
  Camp Cookware Set | Camp Kitchen | 25-89 | Nesting, Titanium, Hard-Anodized | 2-Person, 4-Person, with
      Kettle
  LED Camping Lantern | Camp Lighting | 15-59 | Rechargeable, Collapsible, Solar | 1000 Lumens, 2-Pack
  Camping Hammock | Camp Furniture | 25-79 | Parachute Nylon, Double, Lightweight | with Tree Straps, with
      Bug Net
  Folding Camp Chair | Camp Furniture | 25-89 | Heavy-Duty, Ultralight, Padded | with Cup Holder, with Side
      Table
  Campsite Water Filter | Camp Water | 25-99 | Gravity, Squeeze, Pump | 4 Liter, 10 Liter
  Camping Cooler | Camp Kitchen | 49-299 | Rotomolded, Wheeled, Soft-Sided | 45 Quart, 65 Quart, Ice
      Retention 5 Days
  Campfire Fire Starter | Camp Accessories | 8-25* | Waterproof, Ferro Rod, Natural | Pack of 24, with
      Striker
  Tent Stakes for Camping | Tents | 12-29 | Aluminum, Heavy-Duty, Y-Shaped | Pack of 10, Pack of 20 with Bag
"""


def _parse_vocabulary(text: str) -> tuple[Theme, ...]:
    lines: list[str] = []
    for raw in text.strip("\n").splitlines():
        if raw.startswith("    "):
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw)
    themes: list[Theme] = []
    for line in lines:
        fields = [f.strip() for f in line.split("|")]
        if not line.startswith(" "):
            themes.append(Theme(fields[0], fields[1], tuple(b.strip() for b in fields[2].split(",")), ()))
            continue
        noun, sub, price, adjectives, variants = fields
        low, high = price.rstrip("*").split("-")
        product = Product(
            noun,
            sub,
            (float(low), float(high)),
            tuple(a.strip() for a in adjectives.split(",")),
            tuple(v.strip() for v in variants.split(",")),
            consumable=price.endswith("*"),
        )
        last = themes[-1]
        themes[-1] = Theme(last.key, last.department, last.brands, (*last.products, product))
    return tuple(themes)


THEMES: tuple[Theme, ...] = _parse_vocabulary(_VOCABULARY)
"""The planted interest themes, in a fixed order."""


# ---- items ----
class _Items:
    """Item table: ids, texts, theme, price, popularity weight and release minute (columns as arrays)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.titles: list[str] = []
        self.categories: list[str] = []
        self.prices: list[str] = []
        self.consumable: list[bool] = []
        self.theme = np.zeros(0, dtype=np.int64)
        self.weight = np.zeros(0)
        self.release = np.zeros(0, dtype=np.int64)  # first minute the item may be seen
        self.cold = np.zeros(0, dtype=bool)
        self.by_theme: list[np.ndarray] = []


def _make_items(rng: np.random.Generator, *, n_items: int, days: int) -> _Items:
    items = _Items()
    n_themes = len(THEMES)
    counts = np.full(n_themes, n_items // n_themes)
    counts[: n_items % n_themes] += 1
    numbers = rng.permutation(n_items) + 10000  # ids do not reveal the theme
    themes: list[int] = []
    weights: list[float] = []
    for t, (theme, count) in enumerate(zip(THEMES, counts, strict=True)):
        seen: set[str] = set()
        ranks = rng.permutation(count)  # popularity rank within the theme
        for j in range(count):
            product, title = _make_title(rng, theme, seen)
            items.titles.append(title)
            items.categories.append(f"{theme.department} > {product.subcategory}")
            low, high = product.price
            items.prices.append(f"{max(0.99, round(float(rng.uniform(low, high))) - 0.01):.2f}")
            items.consumable.append(product.consumable)
            themes.append(t)
            weights.append(1.0 / (ranks[j] + 3.0) ** 0.9)
    items.ids = [f"P{n}" for n in numbers]
    items.theme = np.array(themes, dtype=np.int64)
    items.weight = np.array(weights)
    items.by_theme = [np.flatnonzero(items.theme == t) for t in range(n_themes)]
    n_cold = max(1, round(_COLD_SHARE * n_items))
    items.cold = np.zeros(n_items, dtype=bool)
    items.cold[rng.choice(n_items, size=n_cold, replace=False)] = True
    items.release = np.zeros(n_items, dtype=np.int64)
    # Cold items are released between 14 and 5 days before the end, so each still collects a few events.
    cold_days = rng.integers(days - _COLD_DAYS, days - 4, size=n_cold)
    items.release[items.cold] = cold_days * 1440 + rng.integers(0, 1440, size=n_cold)
    return items


def _make_title(rng: np.random.Generator, theme: Theme, seen: set[str]) -> tuple[Product, str]:
    """Compose a unique title ``[Brand] [Adjective] Noun [- Variant]`` from the theme's vocabulary."""
    for attempt in range(200):
        product = theme.products[rng.integers(len(theme.products))]
        parts = []
        if rng.random() < 0.8:
            parts.append(theme.brands[rng.integers(len(theme.brands))])
        adjective = product.adjectives[rng.integers(len(product.adjectives))]
        if (rng.random() < 0.85 or attempt > 20) and adjective.lower() not in product.noun.lower():
            parts.append(adjective)
        parts.append(product.noun)
        title = " ".join(parts)
        if rng.random() < 0.6 or attempt > 40:
            title += " - " + product.variants[rng.integers(len(product.variants))]
        if title not in seen:
            seen.add(title)
            return product, title
    raise ConfigError(
        f"The theme '{theme.key}' ran out of distinct titles. Lower n_items or widen the theme's vocabulary."
    )


# ---- users ----
class _Users:
    """User table: ids, planted themes with weights, role, drifter change minute and conversion propensity."""

    def __init__(self, n: int) -> None:
        self.ids: list[str] = []
        self.themes: list[list[int]] = [[] for _ in range(n)]
        self.theme_weights: list[np.ndarray] = [np.zeros(0) for _ in range(n)]
        self.is_bot = np.zeros(n, dtype=bool)
        self.is_drifter = np.zeros(n, dtype=bool)
        self.change_day = np.full(n, -1, dtype=np.int64)
        self.propensity = np.ones(n)


def _make_users(rng: np.random.Generator, *, n_users: int, days: int) -> _Users:
    users = _Users(n_users)
    n_themes = len(THEMES)
    users.ids = [f"U{n:05d}" for n in rng.permutation(n_users) + 1]
    theme_share = rng.dirichlet(np.full(n_themes, 6.0))  # some themes are more popular than others
    roles = rng.permutation(n_users)
    n_bots = max(1, round(_BOT_SHARE * n_users))
    n_drifters = max(1, round(_DRIFTER_SHARE * n_users))
    users.is_bot[roles[:n_bots]] = True
    users.is_drifter[roles[n_bots : n_bots + n_drifters]] = True
    users.propensity = np.exp(rng.normal(0.0, 0.3, size=n_users))
    for u in range(n_users):
        if users.is_bot[u]:
            continue
        n_own = 2 if users.is_drifter[u] else int(rng.choice([1, 2, 3], p=[0.35, 0.4, 0.25]))
        own = rng.choice(n_themes, size=n_own, replace=False, p=theme_share)
        users.themes[u] = [int(t) for t in own]
        main = rng.uniform(0.6, 0.8)
        rest = 1.0 - main
        users.theme_weights[u] = np.array([[1.0], [main, rest], [main, rest * 0.6, rest * 0.4]][n_own - 1])
        if users.is_drifter[u]:
            users.change_day[u] = int(rng.integers(round(days * 0.4), round(days * 0.6) + 1))
    return users


# ---- sessions ----
class _EventLog:
    """Append-only event rows as parallel integer lists; ``order`` is a checkout number or -1."""

    def __init__(self) -> None:
        self.cols: dict[str, list[int]] = {k: [] for k in ("minute", "user", "item", "event", "qty", "order")}
        self.n_orders = 0

    def add(self, minute: int, user: int, item: int, event: int, qty: int = 0, order: int = -1) -> None:
        for key, value in zip(self.cols, (minute, user, item, event, qty, order), strict=True):
            self.cols[key].append(value)

    def sorted(self) -> dict[str, np.ndarray]:
        """Columns as arrays sorted by time, then user, then insertion order (stable, hence deterministic)."""
        arrays = {k: np.array(v, dtype=np.int64) for k, v in self.cols.items()}
        order = np.lexsort((np.arange(len(arrays["minute"])), arrays["user"], arrays["minute"]))
        return {k: v[order] for k, v in arrays.items()}


def _simulate(
    rng: np.random.Generator,
    items: _Items,
    users: _Users,
    log: _EventLog,
    *,
    days: int,
    report: Callable[[float], None],
) -> None:
    n_users = len(users.ids)
    for u in range(n_users):
        if u % 250 == 0:
            report(u / n_users)
        if users.is_bot[u]:
            _bot_bursts(rng, items, u, log, days=days)
            continue
        n_sessions = int(np.clip(round(rng.lognormal(np.log(8.0), 0.6)), 2, 60))
        if users.is_drifter[u]:
            # Enough sessions on both sides of the change for the switch to show in behaviour.
            change = int(users.change_day[u])
            before = rng.integers(0, change, size=max(6, n_sessions // 2))
            after = rng.integers(change, days, size=max(6, n_sessions - n_sessions // 2))
            session_days = np.sort(np.concatenate([before, after]))
        else:
            session_days = np.sort(rng.integers(0, days, size=n_sessions))
        for day in session_days:
            start = int(day) * 1440 + _start_minute(rng)
            if users.is_drifter[u]:
                theme = users.themes[u][0 if day < users.change_day[u] else 1]
            else:
                theme = users.themes[u][rng.choice(len(users.themes[u]), p=users.theme_weights[u])]
            _session(rng, items, users, u, theme, start, log)


def _start_minute(rng: np.random.Generator) -> int:
    hour = int(rng.choice(len(_HOUR_WEIGHTS), p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()))
    return hour * 60 + int(rng.integers(0, 60))


def _pick(rng: np.random.Generator, items: _Items, theme: int, minute: int, size: int) -> np.ndarray:
    """Draw ``size`` distinct released items of a theme, popular and newly released ones more often."""
    pool = items.by_theme[theme]
    pool = pool[items.release[pool] <= minute]
    if len(pool) == 0:  # only possible with tiny n_items, when a theme's every item is still unreleased
        return pool
    weight = items.weight[pool] * np.where(items.cold[pool], 3.0, 1.0)  # "new arrivals" get promoted
    size = min(size, len(pool))
    return rng.choice(pool, size=size, replace=False, p=weight / weight.sum())


def _session(
    rng: np.random.Generator, items: _Items, users: _Users, u: int, theme: int, start: int, log: _EventLog
) -> None:
    n_views = min(1 + int(rng.poisson(2.8)), _MAX_VIEWS)
    viewed = [int(i) for i in _pick(rng, items, theme, start, n_views)]
    if viewed and not users.is_drifter[u] and rng.random() < _P_OFF_THEME * len(viewed):
        wander = _pick(rng, items, int(rng.integers(len(THEMES))), start, 1)
        if len(wander):
            viewed[int(rng.integers(len(viewed)))] = int(wander[0])
            viewed = list(dict.fromkeys(viewed))
    lift = users.propensity[u]
    minute = start
    carted: list[int] = []
    for item in viewed:
        minute += int(rng.integers(1, 4))
        log.add(minute, u, item, _VIEW)
        if rng.random() < min(0.9, _P_CLICK * lift):
            minute += int(rng.integers(1, 3))
            log.add(minute, u, item, _CLICK)
            if rng.random() < min(0.9, _P_CART * lift):
                minute += int(rng.integers(1, 4))
                log.add(minute, u, item, _CART)
                carted.append(item)
    bought = [i for i in carted if rng.random() < _P_PURCHASE]
    if bought:
        minute += int(rng.integers(2, 7))
        for item in bought:  # one checkout: all lines share the minute and the order
            qty = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])) if items.consumable[item] else 1
            log.add(minute, u, item, _PURCHASE, qty, log.n_orders)
        log.n_orders += 1


def _bot_bursts(rng: np.random.Generator, items: _Items, u: int, log: _EventLog, *, days: int) -> None:
    """View floods: a few bursts of hundreds of views of random items, several per minute, day or night."""
    for _ in range(int(rng.integers(3, 7))):
        minute = int(rng.integers(0, days)) * 1440 + int(rng.integers(0, 1440 - 120))
        pool = np.flatnonzero(items.release <= minute)
        for item in rng.choice(pool, size=int(rng.integers(80, 250))):
            minute += int(rng.random() < 0.3)
            log.add(minute, u, int(item), _VIEW)
            if rng.random() < 0.003:
                log.add(minute, u, int(item), _CLICK)


def _backfill(rng: np.random.Generator, items: _Items, users: _Users, log: _EventLog, *, days: int) -> None:
    """Give every item a short browse by a user of its theme, so that the planted item set matches the log.

    Items that no simulated session reached get one; so do regular items first seen only in the cold window
    (else they would look cold without being planted as such).
    """
    minutes = np.array(log.cols["minute"], dtype=np.int64)
    seen_items = np.array(log.cols["item"], dtype=np.int64)
    first = np.full(len(items.ids), np.iinfo(np.int64).max)
    np.minimum.at(first, seen_items, minutes)
    cold_start = (days - _COLD_DAYS) * 1440
    lacking = np.flatnonzero(np.where(items.cold, first == np.iinfo(np.int64).max, first >= cold_start))
    plain = np.flatnonzero(~users.is_bot & ~users.is_drifter)
    for item in lacking:
        theme = int(items.theme[item])
        fans = [u for u in plain if users.themes[u][0] == theme] or [int(u) for u in plain]
        u = int(fans[rng.integers(len(fans))])
        low = int(items.release[item]) if items.cold[item] else 0
        high = days * 1440 - 120 if items.cold[item] else cold_start - 120
        minute = int(rng.integers(low, max(low + 1, high)))
        log.add(minute, u, int(item), _VIEW)
        if rng.random() < _P_CLICK:
            log.add(minute + 1, u, int(item), _CLICK)


# ---- output ----
def _write_csv(f: IO[bytes], table: dict[str, np.ndarray], items: _Items, users: _Users, start: date) -> None:
    day_text = [
        (start + timedelta(days=d)).isoformat() for d in range(int(table["minute"].max()) // 1440 + 1)
    ]
    order_ids: dict[int, str] = {}
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for minute, user, item, event, qty, order in zip(
            *(table[k].tolist() for k in ("minute", "user", "item", "event", "qty", "order")), strict=True
        ):
            day, rest = divmod(minute, 1440)
            stamp = f"{day_text[day]} {rest // 60:02d}:{rest % 60:02d}:00"
            order_id = ""
            if event == _PURCHASE:
                order_id = order_ids.setdefault(order, f"O{100001 + len(order_ids)}")
            writer.writerow(
                (
                    users.ids[user],
                    items.ids[item],
                    _EVENTS[event],
                    stamp,
                    items.titles[item],
                    items.categories[item],
                    items.prices[item],
                    qty if event == _PURCHASE else "",
                    order_id,
                )
            )
        text.flush()
        text.detach()


def _ground_truth(items: _Items, users: _Users, start: date) -> dict[str, Any]:
    keys = [t.key for t in THEMES]
    item_order = sorted(range(len(items.ids)), key=items.ids.__getitem__)
    user_order = sorted(range(len(users.ids)), key=users.ids.__getitem__)
    return {
        "items": {items.ids[i]: {"theme": keys[items.theme[i]]} for i in item_order},
        "users": {users.ids[u]: {"themes": [keys[t] for t in users.themes[u]]} for u in user_order},
        "drifters": [
            {
                "user_id": users.ids[u],
                "change_date": (start + timedelta(days=int(users.change_day[u]))).isoformat(),
            }
            for u in user_order
            if users.is_drifter[u]
        ],
        "bots": [users.ids[u] for u in user_order if users.is_bot[u]],
        "cold_items": [items.ids[i] for i in item_order if items.cold[i]],
    }


@contextmanager
def _temporary(path: Path, binary: bool) -> Iterator[IO[Any]]:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; these are shared, committed data files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
    """Write through ``write`` into a temporary file beside ``path``, then rename it into place."""
    with _temporary(path, binary) as f:
        write(f)


def _check_sizes(*, n_users: int, n_items: int, days: int) -> None:
    if not isinstance(n_users, int) or n_users < 20:
        raise ConfigError(
            f"The 'n_users' parameter of generate must be an int >= 20. Got {n_users!r} instead."
        )
    if not isinstance(n_items, int) or n_items < 5 * len(THEMES) or n_items > 89999:
        raise ConfigError(
            f"The 'n_items' parameter of generate must be an int in [{5 * len(THEMES)}, 89999]. "
            f"Got {n_items!r} instead."
        )
    if not isinstance(days, int) or days < 30:
        raise ConfigError(f"The 'days' parameter of generate must be an int >= 30. Got {days!r} instead.")
