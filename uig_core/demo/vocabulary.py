"""The demo shop's vocabulary: interest themes, their departments, invented brands and product nouns.

Data for :mod:`uig_core.demo.generator`; kept apart so the generator reads as code and the catalogue as a table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["THEMES", "Theme", "Product"]

log = logging.getLogger(__name__)


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
