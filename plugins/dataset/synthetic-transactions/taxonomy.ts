/**
 * The expense-category taxonomy behind the `synthetic-transactions` dataset, written for ftrun.
 *
 * Each category lists merchant-name patterns (`{a|b|}` picks one alternative, an empty one drops the
 * part, so names are combinatorial), merchant category descriptors (as card networks report them),
 * departments, an amount range, spend programs (the `Card` line, also patterns) and, for
 * travel-like spend, how often a row carries a trip. `overlaps` names the categories a row of this
 * one is easily confused with: noise borrows their merchants and descriptors (plugins/dataset/synthetic-transactions/generate.ts).
 */

export interface CategorySpec {
  name: string;
  merchants: string[];
  descriptors: string[];
  departments: string[];
  /** [min, max] in currency units; amounts are drawn log-uniformly. */
  amount: [number, number];
  programs: string[];
  /** Share of rows with a trip name (default 0: "unknown"). */
  tripRate?: number;
  overlaps: string[];
}

export const LOCATIONS = [
  'San Francisco, CA', 'New York, NY', 'Austin, TX', 'Seattle, WA', 'Chicago, IL', 'Boston, MA', 'Denver, CO',
  'Atlanta, GA', 'Miami, FL', 'Los Angeles, CA', 'Toronto, ON', 'London, UK', 'Dublin, Ireland', 'Berlin, Germany',
  'Munich, DE', 'Paris, France', 'Amsterdam, NL', 'Madrid, Spain', 'Stockholm, Sweden', 'Zurich, CH', 'Tokyo, Japan',
  'Singapore', 'Sydney, Australia', 'Bangalore, India', 'Dubai, UAE', 'São Paulo, Brazil', 'Mexico City, MX',
];

export const DEPARTMENTS = [
  'Engineering', 'Marketing', 'Sales', 'HR', 'Finance', 'Legal', 'IT Operations', 'Research & Development',
  'Executive', 'Office Administration', 'Customer Success', 'Customer Support', 'Product', 'Information Security',
  'Compliance', 'All Departments',
];

/** Descriptors that fit almost any category: descriptor noise. */
export const GENERIC_DESCRIPTORS = [
  'Business Services', 'Professional Services', 'SaaS', 'Online Services', 'Miscellaneous Retail',
  'Consulting', 'Digital Services', 'Technology Services', 'General Merchandise',
];

/** Spend programs that say nothing about the category: program noise. */
export const GENERIC_PROGRAMS = [
  '{Q1|Q2|Q3|Q4} Operating Budget', 'General Corporate Card', 'Department Discretionary Fund',
  '{Annual|Quarterly} Departmental Spend', 'Executive Purchasing Card', 'Miscellaneous Expenses',
];

export const TRIP_PATTERNS = [
  '{Q1|Q2|Q3|Q4}-{NYC|LDN|BER|TYO|SIN|SFO|CHI}-{Sales|BizDev|Partner Visit|Roadshow}',
  '{Spring|Summer|Fall|Winter} {Sales Kickoff|Leadership Offsite|Customer Summit|Partner Tour}',
  '{2024|2025} {Product Launch|Industry Expo|Board Meeting|Annual Conference}',
  'Client Visit - {Acme Corp|Globex|Initech|Umbrella Group|Stark Industries}',
];

const TRAVEL_DEPTS = ['Sales', 'Executive', 'Marketing', 'HR', 'Customer Success', 'Product'];
const TECH_DEPTS = ['Engineering', 'IT Operations', 'Research & Development', 'Product'];

/** Merchant names plausible for two categories: each pattern is listed in both (ambiguous merchants). */
const AMBIGUOUS = {
  softwareSubscription: '{Omni|Nexa}{Suite|App} {Online|}',
  cloudNetwork: '{Flare|Volt}{Cloud|Edge} {Networks|}',
  eventTraining: '{Catalyst|Keynote} {Workshops|Live}',
  itSecurity: '{Iron|Blue}{Gate|Shield} {IT|Tech} Services',
  mealsPerks: '{Fresh|Good} {Plate|Harvest} Catering',
};

export const TAXONOMY: CategorySpec[] = [
  {
    name: 'Airfare',
    merchants: ['{Blue|Summit|Nova|Pacific|Northern|Crest} {Air|Airways|Airlines|Jet}', '{Aero|Sky}{link|way|star} {Airlines|Aviation|}'],
    descriptors: ['Airlines', 'Air Carriers', 'Passenger Air Transport', 'Airline Tickets', 'Travel Services'],
    departments: TRAVEL_DEPTS,
    amount: [180, 4200],
    programs: ['{Sales|Executive|Marketing} Travel Budget', 'Client Travel Fund', '{Q1|Q2|Q3|Q4} Travel Expenses'],
    tripRate: 0.55,
    overlaps: ['Ground Transportation', 'Hotels & Lodging'],
  },
  {
    name: 'Hotels & Lodging',
    merchants: ['{Harbor|Grand|Maple|Royal|Alpine|Lakeside} {Inn|Suites|Hotel|Lodge}', '{Casa|Villa|Palazzo} {del Sol|Azul|Verde|Marina}'],
    descriptors: ['Hotels & Motels', 'Lodging', 'Hotel Accommodation', 'Hospitality', 'Boutique Hotel', 'Short-Term Rentals'],
    departments: TRAVEL_DEPTS,
    amount: [120, 2600],
    programs: ['{Sales|Marketing|Executive} Travel Budget', 'Conference Stay Fund', 'Team Offsite Budget'],
    tripRate: 0.6,
    overlaps: ['Conferences & Events', 'Meals & Entertainment'],
  },
  {
    name: 'Ground Transportation',
    merchants: ['{City|Metro|Swift|Urban|Express} {Cabs|Shuttle|Rides|Car Service|Transit}', '{Ride|Zip|Go}{ly|Now|Share} {Mobility|}', '{Budget|Prime|Fleet} {Car Rental|Rent-A-Car|Parking}'],
    descriptors: ['Taxicabs & Limousines', 'Ride Sharing', 'Car Rentals', 'Transportation Services', 'Commuter Transport, Including Ferries', 'Parking Lots & Garages'],
    departments: TRAVEL_DEPTS,
    amount: [12, 480],
    programs: ['{Sales|Field} Team Travel Fund', 'Local Travel Budget', 'Client Visit Transport'],
    tripRate: 0.45,
    overlaps: ['Airfare', 'Shipping & Logistics'],
  },
  {
    name: 'Meals & Entertainment',
    merchants: [AMBIGUOUS.mealsPerks, '{Café|Bistro|Trattoria|Brasserie} {Luna|Rosa|Verde|Moderne|Central}', '{The|} {Copper|Golden|Silver|Olive} {Spoon|Table|Grill|Kitchen}'],
    descriptors: ['Restaurants', 'Eating Places', 'Food Services', 'Catering', 'Bars & Lounges', 'Culinary Experience'],
    departments: [...TRAVEL_DEPTS, 'Engineering'],
    amount: [18, 1400],
    programs: ['Client Entertainment Fund', 'Team Building Budget', '{Q1|Q2|Q3|Q4} Client Engagement', 'Product Launch Celebration'],
    tripRate: 0.35,
    overlaps: ['Employee Benefits & Perks', 'Conferences & Events'],
  },
  {
    name: 'Software & Licenses',
    merchants: [AMBIGUOUS.softwareSubscription, '{Code|Dev|Byte|Logic|Pixel} {Forge|Works|Labs|Studio}', '{Astra|Vertex|Quanta|Helix}{soft|ware|} {Inc.|LLC|}'],
    descriptors: ['Computer Software', 'Software Licenses', 'Enterprise Software', 'SaaS', 'Developer Tools', 'Design Software'],
    departments: [...TECH_DEPTS, 'Marketing', 'Finance'],
    amount: [49, 9800],
    programs: ['Annual {Engineering|Design|Marketing} Tools Budget', 'Software Licensing Fund', 'Developer Productivity Program'],
    overlaps: ['Subscriptions & Memberships', 'Cloud Infrastructure & Hosting', 'Customer Support Platforms'],
  },
  {
    name: 'Subscriptions & Memberships',
    merchants: [AMBIGUOUS.softwareSubscription, '{Insight|Market|Signal|Trend} {Digest|Weekly|Journal|Reports}', '{Tooly|Clipr|Notably|Boardly|Pollster}'],
    descriptors: ['Subscription Services', 'Online Subscription', 'Professional Memberships', 'Research and Insights', 'Publishing', 'Survey Software'],
    departments: ['Engineering', 'Marketing', 'Sales', 'Legal', 'Finance', 'Executive'],
    amount: [9, 3200],
    programs: ['Annual {Marketing|Sales} Technology Budget', 'Market Intelligence Fund', 'Membership Dues Program'],
    overlaps: ['Software & Licenses', 'Data & Analytics Services'],
  },
  {
    name: 'Cloud Infrastructure & Hosting',
    merchants: [AMBIGUOUS.cloudNetwork, '{Nimbus|Stratus|Cirrus|Cumulus} {Cloud|Compute|Hosting|Stack}', '{Hyper|Elastic|Core}{Node|Grid|Scale} {Technologies|Systems|}'],
    descriptors: ['Cloud Services', 'Application Hosting', 'Data Storage', 'Cloud Solutions Provider', 'Compute Services', 'Web Hosting'],
    departments: TECH_DEPTS,
    amount: [80, 18000],
    programs: ['Annual Cloud Services Budget', '{Production|Staging} Infrastructure Fund', 'Platform Scaling Initiative'],
    overlaps: ['Internet & Network Services', 'Software & Licenses', 'Data & Analytics Services'],
  },
  {
    name: 'Internet & Network Services',
    merchants: [AMBIGUOUS.cloudNetwork, '{Fiber|Wave|Link|Beacon} {Net|Networks|Connect|Broadband}', '{Edge|Mesh|Route}{Point|Path|Flare} {Inc.|}'],
    descriptors: ['Internet Service Provider', 'Network Services', 'Content Delivery', 'DNS & CDN Services', 'Broadband'],
    departments: ['IT Operations', 'Engineering', 'Product'],
    amount: [60, 6500],
    programs: ['Network Operations Budget', 'Annual Connectivity Fund', 'Office Network Upgrade'],
    overlaps: ['Cloud Infrastructure & Hosting', 'Telecommunications'],
  },
  {
    name: 'Telecommunications',
    merchants: ['{Tele|Voice|Signal|Call}{Com|Wave|Line} {Mobile|Wireless|Communications}', '{Orbit|Apex|Unity} {Telecom|Mobile|Voice}'],
    descriptors: ['Telecommunication Services', 'Mobile Phone Plans', 'VoIP Services', 'Wireless Carriers', 'Conference Calling'],
    departments: ['IT Operations', 'Sales', 'Customer Support'],
    amount: [35, 3800],
    programs: ['Company Mobile Plan', 'Global Communication Budget', 'Contact Center Telephony'],
    overlaps: ['Internet & Network Services', 'Customer Support Platforms'],
  },
  {
    name: 'Hardware & Equipment',
    merchants: ['{Tech|Gear|Circuit|Silicon} {Haven|Depot|Outlet|Supply}', '{Micro|Mega|Ultra}{Tronics|Systems|Devices} {Direct|}'],
    descriptors: ['Computer Hardware', 'Electronics Stores', 'Computer Peripherals', 'Custom Hardware Solutions', 'Hardware Resale'],
    departments: ['Engineering', 'Sales', 'Marketing', 'IT Operations', 'Research & Development'],
    amount: [40, 7500],
    programs: ['New Hire Equipment Fund', 'Hardware Refresh Program', '{Engineering|R&D} Dev Kit Budget'],
    overlaps: ['Office Supplies', 'IT Support & Managed Services'],
  },
  {
    name: 'Office Supplies',
    merchants: ['{Paper|Ink|Desk|Office} {Trail|Mart|Hub|& Co.}', '{Staple|Clip|Folder}{ton|wise|ly} {Supplies|Stationers}'],
    descriptors: ['Stationery Stores', 'Office Supplies', 'Printing Services', 'Paper Products', 'Office Furniture'],
    departments: ['Office Administration', 'All Departments', 'Marketing'],
    amount: [8, 900],
    programs: ['Office Consumables Budget', 'Monthly Office Supplies', 'Workspace Refresh Fund'],
    overlaps: ['Hardware & Equipment', 'Facilities & Maintenance'],
  },
  {
    name: 'Office Rent & Utilities',
    merchants: ['{Urban|Metro|Civic|Summit} {Properties|Realty|Workspaces|Estates}', '{City|Regional|Green} {Power|Water|Energy|Utilities} {Co.|Authority|}'],
    descriptors: ['Real Estate Agents & Managers', 'Utilities - Electric, Gas, Water', 'Coworking Space', 'Property Management', 'Utilities Management'],
    departments: ['Office Administration', 'Finance'],
    amount: [150, 24000],
    programs: ['Monthly Operations Budget', 'Facilities Lease Fund', 'Utilities Payment Program'],
    overlaps: ['Facilities & Maintenance', 'Internet & Network Services'],
  },
  {
    name: 'Facilities & Maintenance',
    merchants: ['{Buro|Facility|Spark|Clean}{Pro|Care|Tek} {Services|Maintenance|Solutions}', '{Wong|Patel|Garcia|Novak} & {Sons|Partners} {Repair|Facility Services}'],
    descriptors: ['Facilities Management', 'Equipment Repair', 'Janitorial Services', 'Maintenance Solutions', 'HVAC Services'],
    departments: ['Office Administration', 'IT Operations'],
    amount: [60, 3500],
    programs: ['Monthly Equipment Care Program', 'Building Maintenance Fund', 'Quarterly Facility Upkeep'],
    overlaps: ['Office Rent & Utilities', 'IT Support & Managed Services'],
  },
  {
    name: 'Professional Services',
    merchants: ['{Miller|Hart|Lexington|Carver|Whitmore} & {Associates|Partners|Co.}', '{Lexicon|Sterling|Meridian} {Advisory|Legal|Accounting} {Group|LLP|}'],
    descriptors: ['Legal Services', 'Accounting & Auditing', 'Consulting Services', 'Business Advisory', 'Intellectual Property Services'],
    departments: ['Legal', 'Finance', 'HR', 'Executive'],
    amount: [400, 25000],
    programs: ['Legal Consultation Fund', 'Annual Audit Budget', 'Strategic Advisory Program'],
    overlaps: ['Compliance & Regulatory Fees', 'Recruiting & Hiring'],
  },
  {
    name: 'Advertising & Marketing',
    merchants: ['{Bright|Bold|Zero|Vivid} {Media|Creative|Studio|Agency}', '{Ad|Click|Reach}{Wave|Spark|Pulse} {Marketing|Digital|}'],
    descriptors: ['Advertising Services', 'Media Production', 'Digital Advertising', 'Public Relations', 'Promotional Products'],
    departments: ['Marketing', 'Sales'],
    amount: [150, 30000],
    programs: ['{Brand|Demand Gen} Campaign Budget', 'Annual Marketing Fund', 'Product Launch Promotion'],
    overlaps: ['Conferences & Events', 'Data & Analytics Services'],
  },
  {
    name: 'Conferences & Events',
    merchants: [AMBIGUOUS.eventTraining, '{Tech|Future|Global|Growth} {Summit|Forum|Expo|Con}', '{Event|Venue|Stage}{Hub|Works|ly} {Tickets|Events|}'],
    descriptors: ['Event Registration', 'Conference Tickets', 'Trade Shows', 'Event Planning', 'Booth Rental'],
    departments: ['Marketing', 'Sales', 'Engineering', 'HR', 'Executive'],
    amount: [90, 15000],
    programs: ['Event Sponsorship Budget', 'Conference Attendance Fund', '{Annual|Regional} Trade Show Program'],
    tripRate: 0.3,
    overlaps: ['Training & Development', 'Advertising & Marketing'],
  },
  {
    name: 'Training & Development',
    merchants: [AMBIGUOUS.eventTraining, '{Skill|Learn|Mentor|Up}{Advance|Path|Quest|Wise} {Academy|Institute|Learning}', '{Bright|Open|Peak} {Minds|Courses|Campus}'],
    descriptors: ['Online Learning Platform', 'Professional Development', 'Educational Services', 'Certification Programs', 'Upskilling'],
    departments: ['HR', 'Sales', 'Engineering', 'IT Operations', 'Legal', 'Product'],
    amount: [25, 6000],
    programs: ['Continuous Learning Budget', 'Leadership Development Program', 'Technical Certification Fund'],
    overlaps: ['Conferences & Events', 'Subscriptions & Memberships'],
  },
  {
    name: 'Recruiting & Hiring',
    merchants: ['{Talent|Hire|Staff|Career}{Scout|Bridge|Hub|Point} {Recruiting|Partners|Services}', '{Jobly|Hirewise|Applyr|Candid}'],
    descriptors: ['Recruitment Services', 'Employment Agencies', 'Job Board Posting', 'Background Checks', 'Talent Acquisition'],
    departments: ['HR', 'Executive', 'Engineering', 'Sales'],
    amount: [120, 22000],
    programs: ['Recruitment Excellence Fund', 'New Hires Budget', '{Engineering|Sales} Hiring Plan'],
    overlaps: ['Professional Services', 'Advertising & Marketing'],
  },
  {
    name: 'Employee Benefits & Perks',
    merchants: [AMBIGUOUS.mealsPerks, '{Well|Vita|Zen|Thrive}{Box|Life|Fit|Perks} {Wellness|Benefits|}', '{Snack|Fresh|Daily}{Nation|Crate|Bites} {Co.|}'],
    descriptors: ['Wellness Programs', 'Employee Benefits', 'Gym Memberships', 'Office Snacks & Beverages', 'Health Services'],
    departments: ['HR', 'Office Administration'],
    amount: [20, 8000],
    programs: ['Employee Wellness Initiative', 'Team Perks Budget', 'Benefits Administration Fund'],
    overlaps: ['Meals & Entertainment', 'Insurance'],
  },
  {
    name: 'Insurance',
    merchants: ['{Shield|Guardian|Anchor|Keystone} {Insurance|Mutual|Assurance|Underwriters}', '{Safe|Secure|True}{Harbor|Point|Line} {Risk|Coverage} {Group|}'],
    descriptors: ['Insurance Services', 'Insurance Premiums', 'Risk Management', 'Liability Coverage', 'Financial Services'],
    departments: ['Finance', 'Legal', 'HR'],
    amount: [300, 40000],
    programs: ['Annual Coverage Renewal', 'Risk Management Budget', 'Quarterly Coverage Evaluation'],
    overlaps: ['Employee Benefits & Perks', 'Bank & Payment Fees'],
  },
  {
    name: 'Bank & Payment Fees',
    merchants: ['{First|United|Harbor|Civic} {Bank|Trust|Financial}', '{Pay|Coin|Ledger|Remit}{ly|Stream|Bridge|Fx} {Payments|}'],
    descriptors: ['Financial Institutions', 'Transaction Processing', 'Wire Transfer Fees', 'Currency Exchange Services', 'Merchant Services'],
    departments: ['Finance'],
    amount: [2, 2500],
    programs: ['Treasury Operations', 'Monthly Account Maintenance', 'Global Payments Settlement'],
    overlaps: ['Insurance', 'Subscriptions & Memberships'],
  },
  {
    name: 'Cybersecurity',
    merchants: [AMBIGUOUS.itSecurity, '{Sentinel|Bastion|Cipher|Aegis} {Security|Defense|Labs|Shield}', '{Zero|Trust|Lock}{Gate|Wall|Vault} {Cyber|Security|}'],
    descriptors: ['Security Software', 'Penetration Testing', 'Endpoint Protection', 'VPN Services', 'Identity Management'],
    departments: ['IT Operations', 'Engineering', 'Information Security'],
    amount: [100, 16000],
    programs: ['Security Operations Budget', 'Annual Compliance Hardening', 'Threat Protection Program'],
    overlaps: ['Software & Licenses', 'IT Support & Managed Services'],
  },
  {
    name: 'Data & Analytics Services',
    merchants: ['{Data|Metric|Insight|Quant}{Sphere|Mind|Lens|Flow} {Analytics|Labs|}', '{Clarion|Prism|Orbit} {Data|Intelligence} {Solutions|Group}'],
    descriptors: ['Data Analytics Platforms', 'Data Warehousing', 'Business Intelligence', 'Research Services', 'Data Providers'],
    departments: ['Engineering', 'Marketing', 'Finance', 'Research & Development', 'Sales'],
    amount: [150, 14000],
    programs: ['Analytics Platform Budget', 'Data Management Initiative', 'Market Research Fund'],
    overlaps: ['Cloud Infrastructure & Hosting', 'Subscriptions & Memberships'],
  },
  {
    name: 'Shipping & Logistics',
    merchants: ['{Rapid|Swift|Global|Cargo} {Freight|Couriers|Logistics|Post}', '{Parcel|Ship|Box}{Go|Run|Lane} {Express|Delivery|}'],
    descriptors: ['Courier Services', 'Freight Carriers', 'Postage', 'Logistics Management', 'Packing & Shipping'],
    departments: ['Office Administration', 'Sales', 'Marketing', 'Product'],
    amount: [6, 2800],
    programs: ['Shipping & Postage Budget', 'Customer Samples Fund', 'Event Materials Logistics'],
    overlaps: ['Ground Transportation', 'Office Supplies'],
  },
  {
    name: 'Compliance & Regulatory Fees',
    merchants: ['{State|County|Federal|City} {Licensing Board|Filing Office|Revenue Department}', '{Reg|Comply|Audit}{Point|Trail|Desk} {Compliance|Filings|}'],
    descriptors: ['Government Services', 'Licensing Fees', 'Regulatory Filings', 'Tax Payments', 'Compliance Services'],
    departments: ['Legal', 'Finance', 'Compliance'],
    amount: [25, 12000],
    programs: ['Annual License Renewal', 'Regulatory Filing Budget', 'Quarterly Compliance Review'],
    overlaps: ['Professional Services', 'Bank & Payment Fees'],
  },
  {
    name: 'Customer Support Platforms',
    merchants: ['{Help|Care|Ticket|Chat}{Desk|Flow|Loop|Wise} {HQ|Software|}', '{Cirrus|Echo|Relay} {Support|Engage|Service} {Cloud|Suite}'],
    descriptors: ['Customer Engagement Platform', 'Help Desk Software', 'Live Chat Services', 'Customer Service Software', 'SaaS'],
    departments: ['Customer Success', 'Customer Support', 'Sales', 'Product'],
    amount: [40, 9000],
    programs: ['Support Tooling Budget', 'Customer Experience Program', 'Annual Software Licensing Fund'],
    overlaps: ['Software & Licenses', 'Telecommunications'],
  },
  {
    name: 'IT Support & Managed Services',
    merchants: [AMBIGUOUS.itSecurity, '{Tech|Net|System|Byte}{Xperts|Assist|Care|Ops} {Global|Managed Services|}', '{Reliable|Rapid|Total} {IT|Helpdesk|Tech} {Solutions|Support}'],
    descriptors: ['IT Services', 'Managed Service Provider', 'Computer Maintenance & Repair', 'Help Desk Outsourcing', 'Network Maintenance'],
    departments: ['IT Operations', 'Office Administration'],
    amount: [90, 11000],
    programs: ['IT Operations Budget', 'Quarterly System Assessment', 'Managed Services Contract'],
    overlaps: ['Facilities & Maintenance', 'Cybersecurity', 'Hardware & Equipment'],
  },
];

export const CATEGORY_NAMES: readonly string[] = TAXONOMY.map((c) => c.name);
